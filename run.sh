#!/usr/bin/env bash
# The main job: train the CIFAR MobileNetV2 (the reference exercise's model and recipe: Adam, lr 0.001, batch 128,
# random crop + flip + normalize) on real offline data, then test it. Works offline on a fresh Debian 12 machine:
# Fashion-MNIST comes from Debian's dataset-fashion-mnist package; without it, the synthetic set is used.
# Extra arguments go to 'archgen train' (e.g. --epochs 10 --limit 0 for the full training set).
set -euo pipefail
cd "$(dirname "$0")"

fashion=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
if [ ! -f "$fashion" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's dataset-fashion-mnist..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || echo "Could not install it; using the synthetic set."
fi
dataset=synthetic
[ -f "$fashion" ] && dataset=fashion-mnist

dotnet build src/App -c Release -nologo -clp:ErrorsOnly
app=src/App/bin/Release/net10.0/archgen.dll
run=runs/main-$dataset

# The defaults below apply unless the extra arguments give the option themselves (an option may be given once).
# Running the main job again replaces its previous run (train refuses a folder holding a run without
# --overwrite), unless the extra arguments ask to --resume it.
given() { local a; for a in "${@:2}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
defaults=()
given --epochs "$@" || defaults+=(--epochs 2)
given --limit "$@" || defaults+=(--limit 10000)
given --resume "$@" || defaults+=(--overwrite)
dotnet "$app" train --model CifarMobileNetV2 --dataset "$dataset" --out "$run" "${defaults[@]}" "$@"
dotnet "$app" test --checkpoint "$run"
