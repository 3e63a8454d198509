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

dotnet "$app" train --model CifarMobileNetV2 --dataset "$dataset" --epochs 2 --limit 10000 --out "$run" "$@"
dotnet "$app" test --checkpoint "$run"
