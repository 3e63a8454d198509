#!/usr/bin/env bash
# The main job: train MobileNetV2 on real offline data with the fast recipe, test it, and print the time to accuracy.
# Works offline on a fresh Debian 12 machine: Fashion-MNIST comes from Debian's dataset-fashion-mnist package (trained
# at its native 1x28x28 with FashionMnistMobileNetV2); without it, the synthetic set is used (CifarMobileNetV2).
# Extra arguments go to 'archgen train' and override the recipe (e.g. --epochs 3, or --recipe reference).
set -euo pipefail
cd "$(dirname "$0")"

fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ ! -f "$fashion" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's dataset-fashion-mnist..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || echo "Could not install it; using the synthetic set."
fi
dataset=synthetic model=CifarMobileNetV2
[ -f "$fashion" ] && dataset=fashion-mnist model=FashionMnistMobileNetV2

dotnet build src/App -c Release -nologo -clp:ErrorsOnly
app=src/App/bin/Release/net10.0/archgen.dll
run=runs/main-$dataset

# The defaults below apply unless the extra arguments give the option themselves (an option may be given once).
# Running the main job again replaces its previous run (train refuses a folder holding a run without
# --overwrite), unless the extra arguments ask to --resume it. 'archgen test' below evaluates the run (per-class
# table, confusion matrix), so training need not evaluate too.
given() { local a; for a in "${@:2}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
defaults=(--recipe fast)
given --model "$@" || given -m "$@" || defaults+=(--model "$model")
given --evaluate "$@" || defaults+=(--evaluate none)
given --resume "$@" || defaults+=(--overwrite)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s%N)
dotnet "$app" train --dataset "$dataset" --out "$run" "${defaults[@]}" "$@" | tee "$log"
dotnet "$app" test --checkpoint "$run" | tee -a "$log"
seconds=$(( ($(date +%s%N) - start) / 1000000000 ))

# Time to accuracy: e.g. "92.3 % after 11 min 40 s (1.8 epochs, 108,000 images)".
accuracy=$(grep -o 'test images: [0-9.]* %' "$log" | tail -n 1 | grep -o '[0-9.]*' | tail -n 1)
trained=$(grep -o 'Trained on [0-9,]* images ([0-9.]* epochs)' "$log" | tail -n 1)
images=$(echo "$trained" | grep -o 'on [0-9,]*' | cut -c4-)
epochs=$(echo "$trained" | grep -o '([0-9.]*' | cut -c2-)
echo
echo "Time to accuracy (training + test, the build aside): $(LC_ALL=C printf '%.1f' "$accuracy") % after $((seconds / 60)) min $((seconds % 60)) s ($epochs epochs, $images images)"
