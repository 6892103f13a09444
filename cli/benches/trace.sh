#!/usr/bin/env bash
# `logwire trace ID` against `grep -F ID` over the same ~1 GB of logs
# (3 processes x 11 files: api, worker, scheduler, each rotating at 31 MiB with
# 10 backups), same run, files in the page cache for both. Prints wall times
# (best of 5) and peak RSS.
#
#   bash cli/benches/trace.sh [DIR]     (default: a temporary directory)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p logwire-cli --bin logwire --example gen_logs
bin=target/release/logwire
gen=target/release/examples/gen_logs
dir=${1:-$(mktemp -d)}
root=$dir/logs
if [ ! -e "$root/api.log.10" ]; then
    rm -rf "$root" && mkdir -p "$root"
    for name in api worker scheduler; do "$gen" "$root" "$name" 440 & done
    wait
fi
du -sh "$root" | sed 's/^/logs: /'
ls "$root" | wc -l | sed 's/^/files: /'
cat "$root"/* > /dev/null   # into the page cache

best() { # best wall time of 5 runs, in ms
    local best=999999
    for _ in 1 2 3 4 5; do
        local t0=$(date +%s%N)
        "$@" > /dev/null || true
        local t=$(( ($(date +%s%N) - t0) / 1000000 ))
        (( t < best )) && best=$t
    done
    echo "$best"
}
rss() { # peak RSS in KiB
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}

lines=$("$bin" trace req-bench --root "$root" | wc -l)
echo "logwire trace: $lines lines (request and job)"
grep_ms=$(best grep -F req-bench "$root"/*)
trace_ms=$(best "$bin" trace req-bench --root "$root")
echo "grep -F req-bench:      ${grep_ms} ms, peak RSS $(rss grep -F req-bench "$root"/*) KiB"
echo "logwire trace req-bench: ${trace_ms} ms, peak RSS $(rss "$bin" trace req-bench --root "$root") KiB"
awk -v g="$grep_ms" -v t="$trace_ms" 'BEGIN { printf "logwire trace / grep -F speed: %.2fx\n", g / t }'
