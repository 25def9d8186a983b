#!/usr/bin/env bash
# Every GPU check of swift-autograd in one invocation, on a machine with an NVIDIA GPU and no
# Swift toolchain (about 1-3 minutes; well inside 5).
#
# Build the binary elsewhere (any x86-64 Linux with Swift 6.3), statically linked so the GPU
# machine needs neither Swift nor Foundation (only libc, libm, libstdc++, libgcc_s):
#   Scripts/package-gpu-check.sh gpu-check      # -> gpu-check/{gpu-check.sh, autograd-bench.gz, gpu_compare.py}
# or by hand:
#   swift build -c release --static-swift-stdlib --product autograd-bench
#   strip -o autograd-bench .build/release/autograd-bench   # 85 MB -> 62 MB (23 MB gzipped)
#
# Usage: gpu-check.sh [--binary PATH] [--quick]
#   --binary PATH   the autograd-bench binary, or a gzipped one (default: $AUTOGRAD_BENCH, then
#                   autograd-bench or autograd-bench.gz beside this script, in the current
#                   folder, then .build/release/autograd-bench of this script's repository)
#   --quick         small sizes (a smoke test of the script and the binary)
#
# It runs, writing each output under $OUT (or ./gpu-results):
#   1. nvidia-smi                                        -> nvidia-smi.txt
#   2. autograd-bench --device cuda --check --bench      -> autograd-bench.txt
#      (parity of every op with the CPU backend, PASS/FAIL each; the seed notebook on cuda:0;
#       sgemm 4096², add on 256M floats vs a device-to-device copy, the MLP step)
#   3. if `python3 -c 'import torch'` works: Benchmarks/gpu_compare.py -> pytorch.txt
#   4. a side-by-side table against the goals of the CUDA issue -> summary.txt
# The exit status is autograd-bench's: 0 when every check passed.
#
# CUDA libraries: the binary loads libcudart, libnvrtc and libcublas at run time (soname,
# CUDA_HOME, /usr/local/cuda, then NVIDIA's PyPI wheels on the Python path). PyTorch's wheels
# bring all three, so this script points the loader at python3's site-packages when it can;
# AUTOGRAD_CUDA_LIB_DIR=/folder overrides.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
binary=${AUTOGRAD_BENCH:-}
quick=()
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=$2; shift 2 ;;
        --quick) quick=(--quick); shift ;;
        -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
if [ -z "$binary" ]; then
    for candidate in "$here/autograd-bench" "$here/autograd-bench.gz" ./autograd-bench ./autograd-bench.gz \
                     "$repo/.build/release/autograd-bench"; do
        if [ -f "$candidate" ]; then binary=$candidate; break; fi
    done
fi
if [ -n "$binary" ] && [ "${binary%.gz}" != "$binary" ] && [ -f "$binary" ]; then
    unpacked="${TMPDIR:-/tmp}/autograd-bench-$$"
    trap 'rm -f "$unpacked"' EXIT
    gunzip -c "$binary" > "$unpacked" && chmod +x "$unpacked" && binary=$unpacked
fi
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "gpu-check: no autograd-bench binary (build one with: swift build -c release --static-swift-stdlib --product autograd-bench)" >&2
    exit 66
fi

out=${OUT:-./gpu-results}
mkdir -p "$out"
echo "gpu-check: results in $out" >&2

# 1. The card and driver.
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi > "$out/nvidia-smi.txt" 2>&1
    head -n 15 "$out/nvidia-smi.txt"
else
    echo "nvidia-smi not found" > "$out/nvidia-smi.txt"
fi

# Where the CUDA libraries may be: python3's site-packages (PyTorch's NVIDIA wheels).
have_torch=0
if command -v python3 >/dev/null 2>&1; then
    sites=$(python3 -c 'import site, sys; print(":".join(site.getsitepackages() + [site.getusersitepackages()] + sys.path[1:]))' 2>/dev/null || true)
    if [ -n "$sites" ]; then
        export AUTOGRAD_PYTHON_SITE_PACKAGES="${AUTOGRAD_PYTHON_SITE_PACKAGES:+$AUTOGRAD_PYTHON_SITE_PACKAGES:}$sites"
    fi
    if python3 -c 'import torch' >/dev/null 2>&1; then have_torch=1; fi
fi
export AUTOGRAD_KERNEL_CACHE=${AUTOGRAD_KERNEL_CACHE:-${TMPDIR:-/tmp}/autograd-kernel-cache}

# 2. Parity, the seed notebook and the benchmarks.
echo "== autograd-bench --device cuda --check --bench" >&2
timeout 420 "$binary" --device cuda --check --bench --require-gpu "${quick[@]}" 2>&1 | tee "$out/autograd-bench.txt"
status=${PIPESTATUS[0]}
echo "autograd-bench exit status: $status" | tee -a "$out/autograd-bench.txt"

# 3. The same benchmarks in PyTorch.
compare=""
for candidate in "$here/gpu_compare.py" "$repo/Benchmarks/gpu_compare.py" ./gpu_compare.py; do
    if [ -f "$candidate" ]; then compare=$candidate; break; fi
done
if [ "$have_torch" = 1 ] && [ -n "$compare" ]; then
    echo "== PyTorch ($compare)" >&2
    PYTHONUNBUFFERED=1 timeout 180 python3 "$compare" "${quick[@]}" 2>&1 | tee "$out/pytorch.txt"
else
    echo "PyTorch comparison skipped (torch importable: $have_torch, gpu_compare.py: ${compare:-not found})" | tee "$out/pytorch.txt"
fi

# 4. Side by side, against the goals (sgemm >= 0.9x torch; add >= 80% of copy bandwidth;
#    MLP step >= 1.0x torch, that is no slower).
number() {  # number FILE PATTERN FIELD-REGEX: the first number before the unit on a matching line
    grep -m1 "$2" "$1" 2>/dev/null | sed -n "s|.* \([0-9.][0-9.]*\) $3.*|\1|p"
}
{
    echo "swift-autograd GPU check: $(grep -m1 '^device:' "$out/autograd-bench.txt" 2>/dev/null || echo 'no device')"
    grep -E '^parity:|CHECKS? (PASSED|FAILED)|^FAIL' "$out/autograd-bench.txt" 2>/dev/null
    printf '%-34s %16s %16s %10s\n' metric swift-autograd pytorch ratio
    for row in "sgemm GFLOP/s:GFLOP/s:sgemm" "add GB/s:GB/s:^add" "copy GB/s:GB/s:device-to-device" "MLP step ms:ms:^MLP step"; do
        IFS=: read -r label unit pattern <<< "$row"
        ours=$(number "$out/autograd-bench.txt" "$pattern" "$unit")
        theirs=$(number "$out/pytorch.txt" "$pattern" "$unit")
        ratio=""
        if [ -n "$ours" ] && [ -n "$theirs" ]; then
            if [ "$unit" = ms ]; then
                ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (a > 0) printf "%.2fx", b / a }')
            else
                ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (b > 0) printf "%.2fx", a / b }')
            fi
        fi
        printf '%-34s %16s %16s %10s\n' "$label" "${ours:--}" "${theirs:--}" "$ratio"
    done
    grep -m1 '^add / copy' "$out/autograd-bench.txt" 2>/dev/null | sed 's/^/swift-autograd /'
    echo "goals: sgemm >= 0.90x; add >= 80% of copy bandwidth; MLP step >= 1.00x (ratios > 1 are faster)"
    echo "autograd-bench exit status: $status"
} | tee "$out/summary.txt"
exit "$status"
