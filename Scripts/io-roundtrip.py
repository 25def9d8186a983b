#!/usr/bin/env python3
"""Round trip between NumPy/safetensors and swift-autograd's IO layer.

1. NumPy and the reference safetensors implementation write files into DIR/numpy
   (every dtype, both byte orders, C and Fortran order, .npy versions 1-3, savez and
   savez_compressed with multi-block members, safetensors with BF16 and metadata).
2. `swift test --filter IORoundTripTests` (AUTOGRAD_IO_ROUNDTRIP_DIR=DIR) reads them, checks
   every array, writes them back into DIR/swift, and writes arrays of its own.
3. NumPy, zipfile (CRC check) and safetensors read DIR/swift and compare.
4. The outside program `autograd-io-check` (public API only) reads DIR/numpy and writes
   DIR/check: every file re-encoded, plus own.npy, own.npz and own.safetensors; step 3 again.

Run from anywhere, with numpy and safetensors installed:
    python3 -m venv /tmp/iovenv && /tmp/iovenv/bin/pip install numpy safetensors
    /tmp/iovenv/bin/python Scripts/io-roundtrip.py [--dir DIR] [--skip-build]
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from io_common import DTYPES, describe, le_bytes, sample, st_deserialize, st_serialize  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def write_numpy_side(d):
    rng = np.random.default_rng(20240607)
    manifest = {"npy": {}, "npz": {}, "safetensors": {}}

    def npy(name, dtype, arr, version=None):
        with open(os.path.join(d, name), "wb") as f:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
        manifest["npy"][name] = describe(dtype, arr)
        # The manifest keeps the full bytes here: the Swift test compares exactly.
        manifest["npy"][name]["hex"] = le_bytes(arr).hex()

    for dtype, (descr, _) in DTYPES.items():
        if descr is None:
            continue
        for shape in [(), (0,), (5,), (3, 4), (2, 3, 4), (2, 0, 3)]:
            a = sample(dtype, shape)
            tag = "x".join(map(str, shape)) or "scalar"
            npy(f"{dtype}_{tag}_c.npy", dtype, a)
            npy(f"{dtype}_{tag}_f.npy", dtype, np.asfortranarray(a))
            if a.dtype.itemsize > 1:
                npy(f"{dtype}_{tag}_be_f_v2.npy", dtype, np.asfortranarray(a.astype(a.dtype.newbyteorder(">"))), (2, 0))
                npy(f"{dtype}_{tag}_be_c_v3.npy", dtype, a.astype(a.dtype.newbyteorder(">")), (3, 0))

    arrays = {
        "noise": ("float32", rng.standard_normal((300, 200)).astype(np.float32)),
        "labels": ("int64", rng.integers(0, 10, 100_000)),
        "sparse": ("float64", np.where(rng.random(50_000) < 0.05, rng.random(50_000), 0.0)),
        "mask": ("bool", rng.random((64, 64)) < 0.5),
        "image": ("uint8", rng.integers(0, 256, (3, 32, 32), dtype=np.uint8)),
        "half": ("float16", rng.standard_normal(1000).astype(np.float16)),
        "big_endian_f": ("int32", np.asfortranarray(sample("int32", (40, 30)).astype(">i4"))),
        "scalar": ("float64", np.array(np.pi)),
        "nothing": ("int8", np.zeros((0, 5), np.int8)),
    }
    for fn, saver in [("savez.npz", np.savez), ("savez_compressed.npz", np.savez_compressed)]:
        saver(os.path.join(d, fn), **{k: v for k, (_, v) in arrays.items()})
        manifest["npz"][fn] = {k: describe(t, v) for k, (t, v) in arrays.items()}

    st, expected = {}, {}
    for dtype, (_, stname) in DTYPES.items():
        for shape in [(), (0, 3), (6,), (4, 5, 3)]:
            name = f"{dtype}.{len(shape)}"
            a = sample(dtype, shape)
            st[name] = (stname, list(shape), le_bytes(a))
            expected[name] = describe(dtype, a)
    st["big"] = ("F32", [256, 256], le_bytes(rng.standard_normal((256, 256)).astype(np.float32)))
    expected["big"] = describe("float32", np.frombuffer(st["big"][2], np.float32).reshape(256, 256))
    meta = {"format": "np", "ünïcode": "välue \"q\"\n"}
    with open(os.path.join(d, "reference.safetensors"), "wb") as f:
        f.write(st_serialize(st, metadata=meta))
    manifest["safetensors"]["reference.safetensors"] = {"tensors": expected, "metadata": meta}
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(manifest, f, ensure_ascii=False)
    return manifest


def same(actual_dtype, actual_shape, actual_bytes, entry):
    import zlib
    if actual_dtype != entry["dtype"] or list(actual_shape) != entry["shape"]:
        return False
    if "hex" in entry:
        return actual_bytes == bytes.fromhex(entry["hex"])
    return len(actual_bytes) == entry["size"] and zlib.crc32(actual_bytes) == entry["crc32"]


NP_TO_OURS = {np.dtype(descr).newbyteorder("<").str: ours for ours, (descr, _) in DTYPES.items() if descr}
ST_TO_OURS = {st: ours for ours, (_, st) in DTYPES.items()}


def np_entry_ok(arr, entry):
    ours = NP_TO_OURS.get(arr.dtype.newbyteorder("<").str)
    return ours is not None and arr.dtype.byteorder in "<|=" and same(ours, arr.shape, le_bytes(arr), entry)


def verify_swift_side(d, numpy_manifest):
    generated = json.load(open(os.path.join(d, "manifest.json")))
    # Files Swift re-encoded from NumPy's: must hold what NumPy wrote, little-endian C order.
    for name, entry in numpy_manifest["npy"].items():
        a = np.load(os.path.join(d, name), allow_pickle=False)
        check(np_entry_ok(a, entry) and a.flags.c_contiguous, f"swift/{name}")
    for name, table in numpy_manifest["npz"].items():
        stem = name[:-4]
        for variant in ["stored", "deflated", "zip64"]:
            path = os.path.join(d, f"{stem}.{variant}.npz")
            with zipfile.ZipFile(path) as z:
                check(z.testzip() is None, f"{path}: CRC")
                want = zipfile.ZIP_STORED if variant == "stored" else zipfile.ZIP_DEFLATED
                check(all(i.compress_type == want for i in z.infolist()), f"{path}: method")
            with np.load(path, allow_pickle=False) as z:
                check(sorted(z.files) == sorted(table), f"{path}: names")
                for k, entry in table.items():
                    check(np_entry_ok(z[k], entry), f"{path}/{k}")
    for name, e in numpy_manifest["safetensors"].items():
        tensors, meta = st_deserialize(open(os.path.join(d, name), "rb").read())
        check(meta == e["metadata"], f"swift/{name}: metadata")
        check(sorted(tensors) == sorted(e["tensors"]), f"swift/{name}: names")
        for k, (dt, shape, raw) in tensors.items():
            check(same(ST_TO_OURS[dt], shape, raw, e["tensors"][k]), f"swift/{name}/{k}")
    # Arrays Swift generated.
    for name, entry in generated["npy"].items():
        check(np_entry_ok(np.load(os.path.join(d, name), allow_pickle=False), entry), f"swift/{name}")
    for name, table in generated["npz"].items():
        path = os.path.join(d, name)
        with zipfile.ZipFile(path) as z:
            check(z.testzip() is None, f"{path}: CRC")
        with np.load(path, allow_pickle=False) as z:
            check(sorted(z.files) == sorted(table), f"{path}: names")
            for k, entry in table.items():
                check(np_entry_ok(z[k], entry), f"{path}/{k}")
    for name, e in generated["safetensors"].items():
        data = open(os.path.join(d, name), "rb").read()
        tensors, meta = st_deserialize(data)
        check(meta == e["metadata"], f"swift/{name}: metadata")
        check(sorted(tensors) == sorted(e["tensors"]), f"swift/{name}: names")
        for k, (dt, shape, raw) in tensors.items():
            check(same(ST_TO_OURS[dt], shape, raw, e["tensors"][k]), f"swift/{name}/{k}")


def verify_outside_program(d, numpy_manifest):
    for name, entry in numpy_manifest["npy"].items():
        a = np.load(os.path.join(d, name), allow_pickle=False)
        check(np_entry_ok(a, entry) and a.flags.c_contiguous, f"check/{name}")
    for name, table in numpy_manifest["npz"].items():
        path = os.path.join(d, name)
        with zipfile.ZipFile(path) as z:
            check(z.testzip() is None, f"{path}: CRC")
            want = zipfile.ZIP_DEFLATED if "compressed" in name else zipfile.ZIP_STORED
            check(all(i.compress_type == want for i in z.infolist()), f"{path}: method")
        with np.load(path, allow_pickle=False) as z:
            check(sorted(z.files) == sorted(table), f"{path}: names")
            for k, entry in table.items():
                check(np_entry_ok(z[k], entry), f"{path}/{k}")
    for name, e in numpy_manifest["safetensors"].items():
        tensors, meta = st_deserialize(open(os.path.join(d, name), "rb").read())
        check(meta == e["metadata"], f"check/{name}: metadata")
        check(sorted(tensors) == sorted(e["tensors"]), f"check/{name}: names")
        for k, (dt, shape, raw) in tensors.items():
            check(same(ST_TO_OURS[dt], shape, raw, e["tensors"][k]), f"check/{name}/{k}")
    # What the program wrote on its own (values in Sources/autograd-io-check/main.swift).
    own = {
        "arange": np.arange(12, dtype=np.int64).reshape(3, 4),
        "linspace": np.linspace(0, 1, 5),
        "flags": np.array([[True, False], [False, True]]),
        "half": np.array([0.5, -1, 2], np.float16),
        "bytes": np.array([0, 1, 254, 255], np.uint8),
        "transposed": np.arange(6, dtype=np.int32).reshape(2, 3).T,
    }

    def same_array(a, b):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)

    check(same_array(np.load(os.path.join(d, "own.npy")), own["arange"]), "check/own.npy")
    with np.load(os.path.join(d, "own.npz")) as z:
        check(sorted(z.files) == sorted(own), "check/own.npz: names")
        for k, v in own.items():
            check(same_array(z[k], v), f"check/own.npz/{k}")
    tensors, meta = st_deserialize(open(os.path.join(d, "own.safetensors"), "rb").read())
    check(meta == {"source": "autograd-io-check"}, "check/own.safetensors: metadata")
    check(tensors.get("brain") == ("BF16", [3], bytes.fromhex("003f80bf0040")), "check/own.safetensors/brain")
    del tensors["brain"]
    for k, v in own.items():
        check(k in tensors and tensors[k][1] == list(v.shape) and tensors[k][2] == le_bytes(v), f"check/own.safetensors/{k}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="work directory (default: a fresh temporary one, removed afterwards)")
    ap.add_argument("--skip-build", action="store_true",
                    help="reuse the debug build (after `swift test`): pass --skip-build to swift test, and build "
                         "autograd-io-check only if it is missing")
    args = ap.parse_args()
    d = args.dir or tempfile.mkdtemp(prefix="autograd-io-")
    try:
        npdir, swdir = os.path.join(d, "numpy"), os.path.join(d, "swift")
        shutil.rmtree(npdir, ignore_errors=True)
        shutil.rmtree(swdir, ignore_errors=True)
        os.makedirs(npdir)
        manifest = write_numpy_side(npdir)
        cmd = ["swift", "test", "--filter", "IORoundTripTests"] + (["--skip-build"] if args.skip_build else [])
        env = dict(os.environ, AUTOGRAD_IO_ROUNDTRIP_DIR=os.path.abspath(d))
        r = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail = "\n".join(r.stdout.splitlines()[-15:])
        ran = r.returncode == 0 and "Executed 1 test, with 0 failures" in tail and "skipped" not in tail
        check(ran, "swift test --filter IORoundTripTests ran and passed")
        if not ran:
            print(r.stdout[-6000:])
        else:
            verify_swift_side(swdir, manifest)
        bindir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, stdout=subprocess.PIPE,
                                text=True).stdout.strip()
        tool = os.path.join(bindir, "autograd-io-check")
        # `swift test` builds it too; with --skip-build it is built only if missing.
        if not args.skip_build or not os.path.exists(tool):
            r = subprocess.run(["swift", "build", "--product", "autograd-io-check"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            check(r.returncode == 0, "swift build --product autograd-io-check")
            if r.returncode != 0:
                print(r.stdout[-4000:])
        checkdir = os.path.join(d, "check")
        shutil.rmtree(checkdir, ignore_errors=True)
        r = subprocess.run([tool, npdir, checkdir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(r.stdout.strip())
        check(r.returncode == 0, "autograd-io-check ran")
        if r.returncode == 0:
            verify_outside_program(checkdir, manifest)
    finally:
        if not args.dir:
            shutil.rmtree(d, ignore_errors=True)
    print(f"io-roundtrip: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
