#!/usr/bin/env bash
# Side-by-side performance: ArchGen against PyTorch on the same CPU, run alternately (A B C A B C ...) so that a
# noisy machine affects all three alike; prints the median of each figure and the ratios.
#   A  archgen bench            (ArchGen as shipped: allocator policy applied in-process)
#   B  PyTorch as users run it  (/usr/bin/python3, Debian's python3-torch, default glibc malloc)
#   C  PyTorch with the same allocator policy (GLIBC_TUNABLES: no mmap for large blocks, never trim)
#   D  (optional) a baseline build of ArchGen, when ARCHGEN_BASELINE names its archgen.dll; ARCHGEN_BASELINE_ENV
#      (e.g. "ARCHGEN_MEMORY_LAYOUT=channels-last") is its environment. Measures a change side by side in one run.
# Usage: bench/compare.sh [rounds] [steps] [warmup] [threads] [batch] [model]   (defaults: 3 20 40 2 128 CifarMobileNetV2)
# model: CifarMobileNetV2 (PyTorch: the reference exercise's model) or MobileNetV2 (PyTorch: torchvision's mobilenet_v2).
# The warm-up is long because resident memory settles over the first ~40 training steps; rss_growth_pct is measured
# from the end of the warm-up to the last step.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} steps=${2:-20} warmup=${3:-40} threads=${4:-2} batch=${5:-128} model=${6:-CifarMobileNetV2}
case "$model" in
  CifarMobileNetV2) pymodel=cifar ;;
  MobileNetV2) pymodel=paper ;;
  *) echo "model must be CifarMobileNetV2 or MobileNetV2 (got $model)" >&2; exit 2 ;;
esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || { echo "needs: apt-get install python3-torch python3-torchvision" >&2; exit 1; }
dotnet build src/App -c Release -nologo -clp:ErrorsOnly >/dev/null
app=src/App/bin/Release/net10.0/archgen.dll
args=(--batch-size "$batch" --steps "$steps" --warmup "$warmup" --threads "$threads")
tunables="glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: archgen" >&2
  dotnet "$app" bench --model "$model" "${args[@]}" | tail -n 1 > "$out/archgen.$r.json"
  echo "round $r/$rounds: pytorch" >&2
  /usr/bin/python3 bench/pytorch_reference.py --model "$pymodel" "${args[@]}" | tail -n 1 > "$out/pytorch.$r.json"
  echo "round $r/$rounds: pytorch, same allocator policy" >&2
  GLIBC_TUNABLES="$tunables" /usr/bin/python3 bench/pytorch_reference.py --model "$pymodel" "${args[@]}" | tail -n 1 > "$out/pytorch_tuned.$r.json"
  if [ -n "${ARCHGEN_BASELINE:-}" ]; then
    echo "round $r/$rounds: baseline ($ARCHGEN_BASELINE ${ARCHGEN_BASELINE_ENV:-})" >&2
    # shellcheck disable=SC2086 # the environment is a list of NAME=value words
    env ${ARCHGEN_BASELINE_ENV:-} dotnet "$ARCHGEN_BASELINE" bench --model "$model" "${args[@]}" | tail -n 1 > "$out/baseline.$r.json"
  fi
done

/usr/bin/python3 - "$out" "$rounds" "$model" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {k: [json.load(open(f"{out}/{k}.{r}.json")) for r in range(1, rounds + 1)] for k in ("archgen", "pytorch", "pytorch_tuned")}
keys = ["train_img_s", "infer_img_s", "fused_infer_img_s", "aug_img_s", "peak_rss_mb", "rss_growth_pct"]
med = {k: {m: statistics.median(r[m] for r in v) for m in keys} for k, v in runs.items()}
print(f"{'metric':<20}{'archgen':>12}{'pytorch':>12}{'pytorch+alloc':>15}{'ratio':>9}{'ratio (alloc)':>15}")
for m in keys:
    a, b, c = med["archgen"][m], med["pytorch"][m], med["pytorch_tuned"][m]
    ratio = lambda x, y: f"{x / y:.2f}x" if y else "-"
    print(f"{m:<20}{a:>12.1f}{b:>12.1f}{c:>15.1f}{ratio(a, b):>9}{ratio(a, c):>15}")
print(f"fused_infer vs pytorch eager infer: {med['archgen']['fused_infer_img_s'] / med['pytorch']['infer_img_s']:.2f}x")
onnx = {m: statistics.median(r[m] for r in runs["archgen"]) for m in ("onnx_infer_img_s", "onnx_latency_ms", "fused_latency_ms")}
latency = {k: statistics.median(r["infer_latency_ms"] for r in runs[k]) for k in ("pytorch", "pytorch_tuned")}
print(f"onnx runtime infer: {onnx['onnx_infer_img_s']:.1f} img/s = {onnx['onnx_infer_img_s'] / med['pytorch']['infer_img_s']:.2f}x pytorch eager"
      f" ({onnx['onnx_infer_img_s'] / med['pytorch_tuned']['infer_img_s']:.2f}x same policy), {onnx['onnx_infer_img_s'] / med['archgen']['fused_infer_img_s']:.2f}x archgen fused")
print(f"batch-1 latency: onnx runtime {onnx['onnx_latency_ms']:.2f} ms, archgen fused {onnx['fused_latency_ms']:.2f} ms, pytorch eager {latency['pytorch']:.2f} ms"
      f" (same policy {latency['pytorch_tuned']:.2f} ms): onnx = {onnx['onnx_latency_ms'] / latency['pytorch']:.2f} of pytorch's")
med["archgen"].update(onnx)
med["pytorch"]["infer_latency_ms"] = latency["pytorch"]
med["pytorch_tuned"]["infer_latency_ms"] = latency["pytorch_tuned"]
if os.path.exists(f"{out}/baseline.1.json"):
    base = [json.load(open(f"{out}/baseline.{r}.json")) for r in range(1, rounds + 1)]
    med["baseline"] = {m: statistics.median(r[m] for r in base) for m in keys + ["fused_latency_ms"]}
    print(f"{'baseline':<20}{'archgen':>12}{'baseline':>12}{'ratio':>9}")
    for m in keys + ["fused_latency_ms"]:
        a, b = med["archgen"].get(m, onnx.get(m)), med["baseline"][m]
        print(f"{m:<20}{a:>12.1f}{b:>12.1f}{(f'{a / b:.2f}x' if b else '-'):>9}")
print(json.dumps({"rounds": rounds, "model": sys.argv[3], "median": med}))
PY
