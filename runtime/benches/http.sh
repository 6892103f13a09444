#!/usr/bin/env bash
# HTTP throughput and p99 latency of a hello handler on axum: bare, with
# logwire's ApiLayer (+ file_logger, two lines per request to a rotating
# file), the same under logwire::init (registry + EnvFilter + logwire::layer),
# and with tower-http's TraceLayer + request ids + tracing-subscriber
# fmt to a file. Loopback only; the server on core 0, wrk on core 1,
# 50 connections, DURATION seconds per mode (default 10).
#
# Run: bash runtime/benches/http.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10}

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
fi

cargo build -q --release -p logwire --example http_bench_server
server=target/release/examples/http_bench_server
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

printf '%-13s %12s %10s\n' mode "req/s" "p99"
port=18080
for mode in bare logwire logwire-init tower-http; do
    port=$((port + 1))
    LOG_ROOT="$logs" taskset -c 0 "$server" "$mode" "$port" > "$logs/$mode.out" &
    pid=$!
    for _ in $(seq 100); do grep -q ready "$logs/$mode.out" 2>/dev/null && break; sleep 0.05; done
    taskset -c 1 wrk -t1 -c50 -d2s "http://127.0.0.1:$port/" >/dev/null # warm-up
    out=$(taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" --latency "http://127.0.0.1:$port/")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    printf '%-13s %12s %10s\n' "$mode" "$rps" "$p99"
done
lines=$(cat "$logs"/api.log* 2>/dev/null | wc -l)
echo "logwire wrote $lines lines to api.log*"
