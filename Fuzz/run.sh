#!/usr/bin/env bash
# Builds one libFuzzer target against the IO sources and runs it.
#   Fuzz/run.sh TARGET [RUNS] [extra libFuzzer flags...]     TARGET: npy | npz | deflate | safetensors
# Builds into .build/fuzz/, seeds the corpus from Tests/AutogradTests/Fixtures/io, keeps the
# corpus in .build/fuzz/TARGET-corpus, and writes crash reproducers into .build/fuzz/TARGET-crashes/.
set -euo pipefail
target=${1:?usage: Fuzz/run.sh npy|npz|deflate|safetensors [runs] [libFuzzer flags]}
runs=${2:-1000000}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.build/fuzz"
mkdir -p "$out/$target-corpus" "$out/$target-crashes"
sources=("$root/Sources/Autograd/DType/DType.swift")
for f in "$root"/Sources/Autograd/IO/*.swift; do
    case "$f" in *+IO.swift) ;; *) sources+=("$f") ;; esac   # the Tensor glue needs the whole module
done
if [ ! -x "$out/$target" ] || [ -n "$(find "${sources[@]}" "$root/Fuzz/$target.swift" -newer "$out/$target")" ]; then
    echo "building $out/$target"
    swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name AutogradFuzz \
        "${sources[@]}" "$root/Fuzz/$target.swift" -o "$out/$target"
fi
fixtures="$root/Tests/AutogradTests/Fixtures/io"
case "$target" in
    npy) cp "$fixtures"/*.npy "$out/$target-corpus/" ;;
    npz) cp "$fixtures"/*.npz "$out/$target-corpus/" ;;
    safetensors) cp "$fixtures"/*.safetensors "$out/$target-corpus/" ;;
    deflate) python3 - "$fixtures" "$out/$target-corpus" <<'PY' || true
import sys, zipfile, os, glob
for path in glob.glob(os.path.join(sys.argv[1], "*.npz")):
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.compress_type == zipfile.ZIP_DEFLATED:
                with open(path, "rb") as f:
                    f.seek(info.header_offset + 26)
                    n, m = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
                    f.seek(info.header_offset + 30 + n + m)
                    name = os.path.basename(path) + "-" + info.filename.replace("/", "_")
                    open(os.path.join(sys.argv[2], name), "wb").write(f.read(info.compress_size))
PY
    ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
esac
# Inputs up to 64 KiB (8 KiB for deflate, whose round-trip oracle compresses every input and
# runs about 25 ms per 10 KB under ASan; the unit tests cover long inputs and full windows).
# A 64 KiB input cannot legitimately need a 128 MiB allocation: larger ones are bugs.
maxlen=65536
[ "$target" = deflate ] && maxlen=8192
exec "$out/$target" -runs="$runs" -max_len="$maxlen" -malloc_limit_mb=128 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$out/$target-crashes/" -print_final_stats=1 "$@" "$out/$target-corpus"
