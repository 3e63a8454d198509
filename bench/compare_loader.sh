#!/usr/bin/env bash
# The photo pipeline side by side: `archgen bench --data` against torchvision's ImageFolder + DataLoader (PIL,
# RandomResizedCrop, flip, normalize) on the same folder, the same number of workers, run alternately so that a noisy
# machine affects both alike; prints each run's figures, then the medians and their ratio.
# Usage: bench/compare_loader.sh DIR [rounds] [workers] [size] [batch]   (defaults: 3 2 224 128)
# Make a folder with bench/make_photo_folder.py.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bench/compare_loader.sh DIR [rounds] [workers] [size] [batch]}
rounds=${2:-3} workers=${3:-2} size=${4:-224} batch=${5:-128}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null || { echo "needs: apt-get install python3-torch python3-torchvision" >&2; exit 1; }
dotnet build src/App -c Release -nologo -clp:ErrorsOnly >/dev/null
app=src/App/bin/Release/net10.0/archgen.dll
# The catalog model whose input size the archgen run uses.
model=$([ "$size" = 224 ] && echo MobileNetV2 || echo CifarMobileNetV2)
[ "$size" = 224 ] || [ "$size" = 32 ] || { echo "size must be 224 (MobileNetV2) or 32 (CifarMobileNetV2)" >&2; exit 2; }

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: archgen" >&2
  dotnet "$app" bench --model "$model" --data "$dir" --workers "$workers" --batch-size "$batch" | tail -n 1 | tee "$out/archgen.$r.json" >&2
  echo "round $r/$rounds: torchvision" >&2
  /usr/bin/python3 bench/torchvision_loader.py "$dir" --workers "$workers" --size "$size" --batch-size "$batch" | tail -n 1 | tee "$out/torchvision.$r.json" >&2
done

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {k: [json.load(open(f"{out}/{k}.{r}.json")) for r in range(1, rounds + 1)] for k in ("archgen", "torchvision")}
med = {k: {m: statistics.median(x[m] for x in v) for m in ("load_img_s", "peak_rss_mb")} for k, v in runs.items()}
a, t = med["archgen"], med["torchvision"]
print(f"{'metric':<22}{'archgen':>12}{'torchvision':>14}{'ratio':>9}")
print(f"{'images/s':<22}{a['load_img_s']:>12.1f}{t['load_img_s']:>14.1f}{a['load_img_s'] / t['load_img_s']:>8.2f}x")
print(f"{'peak RSS, MB':<22}{a['peak_rss_mb']:>12.0f}{t['peak_rss_mb']:>14.0f}{a['peak_rss_mb'] / t['peak_rss_mb']:>8.2f}x")
PY
