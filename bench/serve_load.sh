#!/usr/bin/env bash
# Load on archgen serve, driven by wrk: POSTs of a real JPEG (chelsea.jpg, 451x300, from the test fixtures) to
# /v1/predict at concurrency 1, 8, 32 and 64 for SECONDS each, with dynamic batching on (--max-batch 32) and off
# (--max-batch 1), on the catalog's CIFAR model (3x32x32) and MobileNetV2 at 224 (random weights: the speed does not
# depend on them). For each: requests/s, p50/p95/p99 latency, non-2xx answers, and the service's resident memory
# before and after. Then MINUTES at concurrency 32 (CIFAR model, batching on) for memory: resident memory after the
# first minute and at the end. Then the anchors: one `archgen predict` process per image (what a user scripts today),
# and sequential in-process ONNX Runtime (archgen bench: the exported model's batch-1 latency).
# Usage: bench/serve_load.sh [seconds] [minutes] [models]   (defaults: 30 10 "CifarMobileNetV2 MobileNetV2")
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30} minutes=${2:-10} models=${3:-"CifarMobileNetV2 MobileNetV2"}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
dotnet build src/App -c Release -nologo -clp:ErrorsOnly >/dev/null
app=$PWD/src/App/bin/Release/net10.0/archgen.dll
photo=$PWD/tests/ArchGen.Runtime.Tests/Data/Images/Fixtures/photos/chelsea.jpg
work=$(mktemp -d)
server=
stop_server() { if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
trap 'stop_server; rm -rf "$work"' EXIT
port=18431

cat > "$work/post.lua" <<LUA
wrk.method = "POST"
local f = io.open("$photo", "rb")
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

start_server() { # model.onnx max-batch
  dotnet "$app" serve --model-file "$1" --port "$port" --max-batch "$2" --threads 2 2> "$work/serve.err" &
  server=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the service did not become ready:" >&2; cat "$work/serve.err" >&2; exit 1
}

echo "| model | batching | concurrency | requests/s | p50 ms | p95 ms | p99 ms | p99/p50 | non-2xx | socket errors | RSS before → after, MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for model in $models; do
  (cd "$work" && dotnet "$app" train --model "$model" --dataset synthetic --epochs 1 --limit 8 --test-limit 4 --batch-size 4 --out "run-$model" >/dev/null \
    && dotnet "$app" export --checkpoint "run-$model" --to "$model.onnx" >/dev/null)
  for mode in on off; do
    [ "$mode" = on ] && max=32 || max=1
    start_server "$work/$model.onnx" "$max"
    wrk -t 1 -c 4 -d 3s -s "$work/post.lua" "http://127.0.0.1:$port/v1/predict" >/dev/null # warm-up
    for c in 1 8 32 64; do
      before=$(rss_mb "$server")
      line=$(wrk -t 1 -c "$c" -d "${seconds}s" --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$port/v1/predict" | grep '^RESULT')
      after=$(rss_mb "$server")
      read -r _ rps p50 p95 p99 non2xx socket <<< "$line"
      ratio=$(awk -v a="$p99" -v b="$p50" 'BEGIN { printf "%.2f", a / b }')
      echo "| $model | $mode (--max-batch $max) | $c | $rps | $p50 | $p95 | $p99 | $ratio | $non2xx | $socket | $before → $after |"
    done
    stop_server
  done
done

if [ "$minutes" -gt 0 ]; then
  model=$(echo "$models" | awk '{ print $1 }')
  start_server "$work/$model.onnx" 32
  wrk -t 1 -c 32 -d "$((minutes * 60))s" --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$port/v1/predict" > "$work/long.txt" &
  load=$!
  sleep 60
  first=$(rss_mb "$server")
  sleep $((minutes * 60 - 65))
  last=$(rss_mb "$server")
  wait "$load"
  read -r _ rps p50 p95 p99 non2xx socket <<< "$(grep '^RESULT' "$work/long.txt")"
  drift=$(awk -v a="$last" -v b="$first" 'BEGIN { printf "%+.1f", 100 * (a - b) / b }')
  echo
  echo "$model, batching on, concurrency 32 for $minutes min: $rps requests/s, p50 $p50 ms, p99 $p99 ms, non-2xx $non2xx; RSS after 1 min $first MB, at the end $last MB ($drift %)"
  stop_server
fi

echo
model=$(echo "$models" | awk '{ print $1 }')
start=$(date +%s.%N)
for _ in 1 2 3 4 5; do dotnet "$app" predict --model-file "$work/$model.onnx" --json "$photo" >/dev/null; done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v m="$model" 'BEGIN { printf "anchor, one archgen predict process per image (%s, 5 in a row): %.2f images/s (%.0f ms each)\n", m, 5 / (e - s), 1000 * (e - s) / 5 }'
for model in $models; do
  json=$(dotnet "$app" bench --model "$model" --batch-size 8 --steps 20 --warmup 5 --threads 2 | tail -n 1)
  /usr/bin/python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print("anchor, sequential in-process ONNX Runtime (%s, archgen bench, batch 1): %.2f ms per image, %.1f images/s" % (sys.argv[2], j["onnx_latency_ms"], 1000 / j["onnx_latency_ms"]))' "$json" "$model"
done
