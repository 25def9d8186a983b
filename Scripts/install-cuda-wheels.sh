#!/usr/bin/env bash
# Installs NVIDIA's CUDA runtime and NVRTC from PyPI into a virtual environment, so the CCUDA
# loader finds libcudart and libnvrtc on machines without a CUDA toolkit (CI). No GPU or driver
# is needed: NVRTC compiles kernels without one, and libcudart then reports error 35
# ("CUDA driver version is insufficient"), which the tests expect.
#
# Usage: Scripts/install-cuda-wheels.sh [--venv DIR] [--cuda 13|12] [--with-cublas] [--python PY]
#
#   --venv DIR      the virtual environment to create or reuse (default: .venv-cuda)
#   --cuda 13|12    the CUDA major version of the wheels (default: 13)
#   --with-cublas   also install cuBLAS (nvidia-cublas: ~445 MB download, ~610 MB installed,
#                   against ~61 MB / ~150 MB for runtime + NVRTC); only GPU runs use it
#   --python PY     the interpreter that creates the venv (default: $PYTHON or python3)
#
# Everything but the result goes to stderr; stdout is only the line to evaluate:
#   eval "$(Scripts/install-cuda-wheels.sh)"
#   # export AUTOGRAD_PYTHON_SITE_PACKAGES=/abs/path/.venv-cuda/lib/python3.11/site-packages
#
# Then `AUTOGRAD_REQUIRE_CUDA_LIBRARIES=1 swift test` makes the NVRTC and loader tests fail,
# instead of skipping, if the loader does not find the libraries.
set -euo pipefail

venv=.venv-cuda
cuda=13
with_cublas=0
python=${PYTHON:-python3}

while [ $# -gt 0 ]; do
    case "$1" in
        --venv) venv=$2; shift 2 ;;
        --cuda) cuda=$2; shift 2 ;;
        --with-cublas) with_cublas=1; shift ;;
        --python) python=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-cuda-wheels: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

case "$cuda" in
    13) packages=("nvidia-cuda-runtime>=13,<14" "nvidia-cuda-nvrtc>=13,<14")
        cublas="nvidia-cublas>=13,<14"
        libdirs=(nvidia/cu13/lib) ;;
    12) packages=("nvidia-cuda-runtime-cu12" "nvidia-cuda-nvrtc-cu12")
        cublas="nvidia-cublas-cu12"
        libdirs=(nvidia/cuda_runtime/lib nvidia/cuda_nvrtc/lib nvidia/cublas/lib) ;;
    *) echo "install-cuda-wheels: --cuda must be 13 or 12, not '$cuda'" >&2; exit 2 ;;
esac
if [ "$with_cublas" = 1 ]; then packages+=("$cublas"); fi

if [ ! -x "$venv/bin/python" ]; then
    echo "install-cuda-wheels: creating $venv" >&2
    "$python" -m venv "$venv" >&2
fi
echo "install-cuda-wheels: pip install ${packages[*]}" >&2
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet "${packages[@]}" >&2

site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
site_packages=$(cd "$site_packages" && pwd -P)

# Check that the libraries landed where the loader looks.
status=0
for library in libcudart libnvrtc $([ "$with_cublas" = 1 ] && echo libcublas); do
    found=""
    for dir in "${libdirs[@]}"; do
        candidate="$site_packages/$dir/$library.so.$cuda"
        if [ -e "$candidate" ]; then found=$candidate; break; fi
    done
    if [ -n "$found" ]; then
        echo "install-cuda-wheels: $library: $found" >&2
    else
        echo "install-cuda-wheels: $library.so.$cuda not found under $site_packages (${libdirs[*]})" >&2
        status=1
    fi
done
[ "$status" = 0 ] || exit "$status"

echo "export AUTOGRAD_PYTHON_SITE_PACKAGES=$site_packages"
