#!/usr/bin/env python3
"""Writes the IO test fixtures into Tests/AutogradTests/Fixtures/io/ with NumPy and the
reference safetensors implementation, plus manifest.json listing, for every file, each
array's dtype, shape and expected bytes (little-endian, C order, hex).

    python3 -m venv /tmp/iovenv && /tmp/iovenv/bin/pip install numpy safetensors
    /tmp/iovenv/bin/python Scripts/make-io-fixtures.py

The data is `io_common.sample(dtype, shape)` (arange-based); see that function.
"""
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from io_common import DTYPES, describe, le_bytes, sample, st_serialize  # noqa: E402

# bfloat16 samples are uint16 bit patterns; describe() only needs their bytes.

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "AutogradTests", "Fixtures", "io")


def main():
    os.makedirs(ROOT, exist_ok=True)
    for f in os.listdir(ROOT):
        os.remove(os.path.join(ROOT, f))
    manifest = {"npy": {}, "npz": {}, "safetensors": {}}

    def npy(name, dtype, arr, version=None):
        with open(os.path.join(ROOT, name), "wb") as f:
            if version is None:
                np.save(f, arr, allow_pickle=False)
            else:
                np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
        manifest["npy"][name] = describe(dtype, arr)

    # Every dtype, both byte orders for multi-byte types, C order, version 1.0.
    for dtype, (descr, _) in DTYPES.items():
        if descr is None:
            continue
        a = sample(dtype, (2, 3))
        npy(f"{dtype}_c.npy", dtype, a)
        if a.dtype.itemsize > 1:
            npy(f"{dtype}_be_c.npy", dtype, a.astype(a.dtype.newbyteorder(">")))
    # Fortran order (rank 2 and 3; little and big endian).
    for dtype in ["bool", "int16", "float32", "float64"]:
        npy(f"{dtype}_f.npy", dtype, np.asfortranarray(sample(dtype, (2, 3, 4))))
    npy("int32_be_f.npy", "int32", np.asfortranarray(sample("int32", (3, 5)).astype(">i4")))
    npy("float64_be_f.npy", "float64", np.asfortranarray(sample("float64", (2, 3, 2)).astype(">f8")))
    # Format versions 2.0 and 3.0.
    npy("float32_v2.npy", "float32", sample("float32", (4, 2)), version=(2, 0))
    npy("int64_v3.npy", "int64", sample("int64", (5,)), version=(3, 0))
    npy("float16_be_v3_f.npy", "float16", np.asfortranarray(sample("float16", (3, 2)).astype(">f2")), version=(3, 0))
    # 0-d, 1-d, size 0.
    npy("float64_0d.npy", "float64", np.array(3.25))
    npy("int64_0d.npy", "int64", np.array(-7, dtype=np.int64))
    npy("bool_0d.npy", "bool", np.array(True))
    npy("int8_1d.npy", "int8", sample("int8", (7,)))
    npy("float32_empty.npy", "float32", np.zeros((0, 3), np.float32))
    npy("int64_empty1d.npy", "int64", np.zeros((0,), np.int64))
    npy("float64_empty_f.npy", "float64", np.asfortranarray(np.zeros((2, 0, 3), np.float64)))

    # npz: np.savez (stored, ZIP64 extra fields in local headers) and np.savez_compressed.
    arrays = {
        "weights": ("float32", sample("float32", (2, 3))),
        "counts": ("int64", sample("int64", (4,))),
        "mask": ("bool", sample("bool", (3,))),
        "scale": ("float64", np.array(0.5)),
        "empty": ("int16", np.zeros((0, 2), np.int16)),
        "naïve": ("uint8", sample("uint8", (2, 2))),
    }
    np.savez(os.path.join(ROOT, "savez.npz"), **{k: v for k, (_, v) in arrays.items()})
    np.savez_compressed(os.path.join(ROOT, "savez_compressed.npz"), **{k: v for k, (_, v) in arrays.items()})
    for name in ["savez.npz", "savez_compressed.npz"]:
        manifest["npz"][name] = {k: describe(d, v) for k, (d, v) in arrays.items()}
    # Larger compressed members: dynamic Huffman blocks, long matches, several blocks,
    # a Fortran-order big-endian member.
    big = {
        "periodic": ("int64", (np.arange(20000) % 100).astype(np.int64)),
        "wave": ("float32", np.sin(np.arange(3000, dtype=np.float32) * 0.01)),
        "zeros": ("float64", np.zeros((100, 100))),
        "fortran": ("int32", np.asfortranarray(sample("int32", (30, 20)).astype(">i4"))),
    }
    np.savez_compressed(os.path.join(ROOT, "compressed_large.npz"), **{k: v for k, (_, v) in big.items()})
    manifest["npz"]["compressed_large.npz"] = {k: describe(d, v) for k, (d, v) in big.items()}
    np.savez(os.path.join(ROOT, "empty.npz"))
    manifest["npz"]["empty.npz"] = {}

    # safetensors: every dtype (BF16 too) with metadata, through the reference implementation.
    st = {}
    expected = {}
    for dtype, (_, stname) in DTYPES.items():
        shape = (2, 3) if dtype != "float64" else (3,)
        a = sample(dtype, shape)
        st[dtype] = (stname, list(shape), le_bytes(a))
        expected[dtype] = describe(dtype, a)
    st["scalar"] = ("F32", [], le_bytes(np.array(2.5, np.float32)))
    expected["scalar"] = describe("float32", np.array(2.5, np.float32))
    st["nothing"] = ("I32", [0, 4], b"")
    expected["nothing"] = {"dtype": "int32", "shape": [0, 4], "hex": ""}
    meta = {"format": "pt", "note": "fixture \"quoted\" ünïcode"}
    with open(os.path.join(ROOT, "all_dtypes.safetensors"), "wb") as f:
        f.write(st_serialize(st, metadata=meta))
    manifest["safetensors"]["all_dtypes.safetensors"] = {"tensors": expected, "metadata": meta}
    from safetensors.numpy import save_file
    np_tensors = {"embedding.weight": sample("float32", (4, 3)), "step": np.array([3], np.int64)}
    save_file(np_tensors, os.path.join(ROOT, "numpy.safetensors"))
    manifest["safetensors"]["numpy.safetensors"] = {
        "tensors": {"embedding.weight": describe("float32", np_tensors["embedding.weight"]),
                    "step": describe("int64", np_tensors["step"])},
        "metadata": {}}
    with open(os.path.join(ROOT, "empty.safetensors"), "wb") as f:
        f.write(st_serialize({}))
    manifest["safetensors"]["empty.safetensors"] = {"tensors": {}, "metadata": {}}

    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(ROOT, x)) for x in os.listdir(ROOT))
    print(f"wrote {len(os.listdir(ROOT))} files, {total} bytes, into {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
