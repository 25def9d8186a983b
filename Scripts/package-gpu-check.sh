#!/usr/bin/env bash
# Builds the self-contained GPU check bundle: a statically linked, stripped, gzipped
# autograd-bench with Scripts/gpu-check.sh and Benchmarks/gpu_compare.py, to copy to a machine
# with an NVIDIA GPU and no Swift, where `./gpu-check.sh` runs every GPU check.
#
# Usage: Scripts/package-gpu-check.sh [DIR]   (default: gpu-check; about 23 MB)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-gpu-check}
cd "$repo"
swift build -c release --static-swift-stdlib --product autograd-bench >&2
mkdir -p "$dir"
strip -o "$dir/autograd-bench" .build/release/autograd-bench
gzip -9 -f "$dir/autograd-bench"
cp Scripts/gpu-check.sh Benchmarks/gpu_compare.py "$dir/"
echo "package-gpu-check: $dir: $(ls "$dir" | tr '\n' ' ')" >&2
