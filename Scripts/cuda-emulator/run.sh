#!/usr/bin/env bash
# Runs a command with swift-autograd's CUDA backend on the CUDA emulator: builds
# libcuda-emulator.so (once, into .build/cuda-emulator) and points the CCUDA loader's
# libcudart, libnvrtc and libcublas at it. No GPU, driver or CUDA library is needed; kernels
# are compiled by the host C++ compiler ($AG_EMU_CXX, default clang++) and run on the CPU.
#
#   Scripts/cuda-emulator/run.sh swift test --filter CUDA
#   Scripts/cuda-emulator/run.sh .build/debug/autograd-bench --device cuda --check
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/.build/cuda-emulator"
library="$out/libcuda-emulator.so"
mkdir -p "$out"
if [ ! -f "$library" ] || [ "$here/emulator.cpp" -nt "$library" ] || [ "$here/emulated_device.h" -nt "$library" ]; then
    echo "cuda-emulator: building $library" >&2
    "${AG_EMU_CXX:-clang++}" -std=c++17 -O1 -shared -fPIC -DAG_EMU_HEADER="\"$here/emulated_device.h\"" \
        "$here/emulator.cpp" -o "$library" -ldl -lpthread
fi
export AUTOGRAD_CUDART_PATH="$library" AUTOGRAD_NVRTC_PATH="$library" AUTOGRAD_CUBLAS_PATH="$library"
export AUTOGRAD_KERNEL_CACHE=""   # emulated images are host libraries: keep them out of the disk cache
exec "$@"
