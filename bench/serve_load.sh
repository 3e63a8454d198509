#!/usr/bin/env bash
# Load on archgen serve, driven by wrk: POSTs of a real JPEG (chelsea.jpg, 451x300, from the test fixtures) to
# /v1/predict at concurrency 1, 8, 32 and 64 for SECONDS each, with dynamic batching on (--max-batch 32) and off
# (--max-batch 1), on the catalog's CIFAR model (3x32x32) and MobileNetV2 at 224 (random weights: the speed does not
# depend on them). For each: requests/s, p50/p95/p99 latency, non-2xx answers, and the service's resident memory
# before and after. Then MINUTES at concurrency 32 (CIFAR model, batching on) for memory: resident memory after the
# first minute and at the end. Then the anchors: one `archgen predict` process per image (what a user scripts today),
# and sequential in-process ONNX Runtime (archgen bench: the exported model's batch-1 latency, and its time per image in
# batches of 32, whose ratio bounds what batching can gain).
# Last, one trickling client: the first model, batching on, a lone client (concurrency 1) with and without another
# client whose upload arrives at 300 bytes/s the whole time, at the default --batch-window-ms 5 and at 1000 (a
# batch must not wait for an upload still arriving, so the lone client's latency must not move).
# Usage: bench/serve_load.sh [seconds] [minutes] [models] [parts]
#   (defaults: 30 10 "CifarMobileNetV2 MobileNetV2" "load memory anchors trickle"; parts picks the sections to run)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30} minutes=${2:-10} models=${3:-"CifarMobileNetV2 MobileNetV2"} parts=${4:-"load memory anchors trickle"}
part() { [[ " $parts " == *" $1 "* ]]; }
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
dotnet build src/App -c Release -nologo -clp:ErrorsOnly >/dev/null
app=$PWD/src/App/bin/Release/net10.0/archgen.dll
photo=$PWD/tests/ArchGen.Runtime.Tests/Data/Images/Fixtures/photos/chelsea.jpg
work=$(mktemp -d)
servers=()
stop_servers() { for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; servers=(); }
trap 'stop_servers; rm -rf "$work"' EXIT

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

declare -A pid_of
start_server() { # model.onnx max-batch port [more serve flags]
  dotnet "$app" serve --model-file "$1" --port "$3" --max-batch "$2" --threads 2 "${@:4}" 2> "$work/serve-$3.err" &
  servers+=($!)
  pid_of[$3]=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$3/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "the service did not become ready:" >&2; cat "$work/serve-$3.err" >&2; exit 1
}

# Both services run side by side (the idle one's threads sleep) and each concurrency is measured with batching on,
# then off, right after: this VM's throughput drifts by tens of percent over minutes, and the pairs share the drift.
on_port=18431 off_port=18432
part load && echo "| model | concurrency | batching | requests/s | p50 ms | p95 ms | p99 ms | p99/p50 | non-2xx | socket errors | RSS before → after, MB |"
part load && echo "|---|---|---|---|---|---|---|---|---|---|---|"
ratios=
for model in $models; do
  (cd "$work" && dotnet "$app" train --model "$model" --dataset synthetic --epochs 1 --limit 8 --test-limit 4 --batch-size 4 --out "run-$model" >/dev/null \
    && dotnet "$app" export --checkpoint "run-$model" --to "$model.onnx" >/dev/null)
  part load || continue
  start_server "$work/$model.onnx" 32 $on_port
  start_server "$work/$model.onnx" 1 $off_port
  for p in $on_port $off_port; do wrk -t 1 -c 4 -d 3s -s "$work/post.lua" "http://127.0.0.1:$p/v1/predict" >/dev/null; done # warm-up
  for c in 1 8 32 64; do
    for p in $on_port $off_port; do
      [ "$p" = $on_port ] && mode="on (--max-batch 32)" || mode="off (--max-batch 1)"
      before=$(rss_mb "${pid_of[$p]}")
      line=$(wrk -t 1 -c "$c" -d "${seconds}s" --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$p/v1/predict" | grep '^RESULT')
      after=$(rss_mb "${pid_of[$p]}")
      read -r _ rps p50 p95 p99 non2xx socket <<< "$line"
      [ "$p" = $on_port ] && on_rps=$rps
      ratio=$(awk -v a="$p99" -v b="$p50" 'BEGIN { printf "%.2f", a / b }')
      echo "| $model | $c | $mode | $rps | $p50 | $p95 | $p99 | $ratio | $non2xx | $socket | $before → $after |"
    done
    ratios+=$(awk -v a="$on_rps" -v b="$rps" -v m="$model" -v c="$c" 'BEGIN { printf "%s, concurrency %d: batching on gives %.2fx the requests/s of off\n", m, c, a / b }')$'\n'
  done
  stop_servers
done
part load && { echo; printf '%s' "$ratios"; }

if part memory && [ "$minutes" -gt 0 ]; then
  model=$(echo "$models" | awk '{ print $1 }')
  start_server "$work/$model.onnx" 32 $on_port
  wrk -t 1 -c 32 -d "$((minutes * 60))s" --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$on_port/v1/predict" > "$work/long.txt" &
  load=$!
  series=
  for minute in $(seq 1 $((minutes - 1))); do
    sleep 60
    series+="$(rss_mb "${pid_of[$on_port]}") "
  done
  sleep 55
  series+="$(rss_mb "${pid_of[$on_port]}")"
  wait "$load"
  read -r _ rps p50 p95 p99 non2xx socket <<< "$(grep '^RESULT' "$work/long.txt")"
  first=${series%% *} last=${series##* }
  drift=$(awk -v a="$last" -v b="$first" 'BEGIN { printf "%+.1f", 100 * (a - b) / b }')
  echo
  echo "$model, batching on, concurrency 32 for $minutes min: $rps requests/s, p50 $p50 ms, p99 $p99 ms, non-2xx $non2xx, socket errors $socket; RSS each minute (MB): $series; the end against the first minute: $drift %"
  stop_servers
fi

if part anchors; then
echo
model=$(echo "$models" | awk '{ print $1 }')
start=$(date +%s.%N)
for _ in 1 2 3 4 5; do dotnet "$app" predict --model-file "$work/$model.onnx" --json "$photo" >/dev/null; done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v m="$model" 'BEGIN { printf "anchor, one archgen predict process per image (%s, 5 in a row): %.2f images/s (%.0f ms each)\n", m, 5 / (e - s), 1000 * (e - s) / 5 }'
for model in $models; do
  json=$(dotnet "$app" bench --model "$model" --batch-size 32 --steps 10 --warmup 3 --threads 2 | tail -n 1)
  /usr/bin/python3 -c 'import json, sys; j = json.loads(sys.argv[1]); one = j["onnx_latency_ms"]; many = 1000 / j["onnx_infer_img_s"]
print("anchor, sequential in-process ONNX Runtime (%s, archgen bench): batch 1 %.2f ms per image (%.1f images/s); batch 32 %.2f ms per image; the most batching can give, with decoding and HTTP free: %.2fx" % (sys.argv[2], one, 1000 / one, many, one / many))' "$json" "$model"
done
fi

if part trickle; then
  # One client that declares a 500,000-byte image and sends 30 bytes every 0.1 s (300 bytes/s, above Kestrel's
  # minimum body rate, so the service keeps waiting for it) for as long as it runs.
  cat > "$work/trickle.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 500000\r\n\r\n")
sent = 0
try:
    while True:
        s.sendall(b"\0" * 30)
        sent += 30
        time.sleep(0.1)
except OSError as e:
    print(f"TRICKLE closed by the service after {sent} bytes: {e}", flush=True)
PY
  model=$(echo "$models" | awk '{ print $1 }')
  echo
  echo "| model | --batch-window-ms | another client uploading at 300 B/s | requests/s | p50 ms | p95 ms | p99 ms | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|"
  for window in 5 1000; do
    start_server "$work/$model.onnx" 32 $on_port --batch-window-ms "$window"
    wrk -t 1 -c 1 -d 3s -s "$work/post.lua" "http://127.0.0.1:$on_port/v1/predict" >/dev/null # warm-up
    for trickling in no yes; do
      trickler=
      if [ "$trickling" = yes ]; then
        /usr/bin/python3 "$work/trickle.py" $on_port > "$work/trickle.out" 2>&1 &
        trickler=$!
        sleep 1
      fi
      read -r _ rps p50 p95 p99 non2xx socket <<< "$(wrk -t 1 -c 1 -d "${seconds}s" --timeout 30s -s "$work/post.lua" "http://127.0.0.1:$on_port/v1/predict" | grep '^RESULT')"
      if [ -n "$trickler" ]; then
        kill -0 "$trickler" 2>/dev/null || { echo "the trickling client ended early: $(cat "$work/trickle.out")" >&2; exit 1; }
        kill "$trickler"; wait "$trickler" 2>/dev/null || true
      fi
      echo "| $model | $window | $trickling | $rps | $p50 | $p95 | $p99 | $non2xx |"
    done
    stop_servers
  done
fi
