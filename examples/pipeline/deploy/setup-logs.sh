#!/bin/sh
# Creates the shared log directory: both service users write it, new files
# keep its group (setgid), nobody else reads it.
#   sudo sh setup-logs.sh {{LOG_ROOT}} {{API_USER}} {{GROUP}}
set -eu
dir=${1:-{{LOG_ROOT}}}
owner=${2:-{{API_USER}}}
group=${3:-{{GROUP}}}
mkdir -p "$dir"
chown "$owner:$group" "$dir"
chmod 2770 "$dir"
# Files already there become group-writable and keep the group.
find "$dir" -maxdepth 1 -type f -name '*.log*' -exec chgrp "$group" {} + -exec chmod g+rw {} +
echo "$dir: $(stat -c '%U:%G %a' "$dir")"
