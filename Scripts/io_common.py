"""Shared helpers for make-io-fixtures.py and io-roundtrip.py.

Every test array is a deterministic function of its dtype and shape (`sample`), so the
Swift side and the Python side can regenerate the expected values independently.
"""
import json
import numpy as np

# Our dtype name -> (NumPy dtype, safetensors dtype name). bfloat16 has no NumPy dtype: its
# values are carried as uint16 bit patterns (the top half of a float32).
DTYPES = {
    "bool": ("|b1", "BOOL"),
    "uint8": ("|u1", "U8"),
    "int8": ("|i1", "I8"),
    "int16": ("<i2", "I16"),
    "int32": ("<i4", "I32"),
    "int64": ("<i8", "I64"),
    "float16": ("<f2", "F16"),
    "bfloat16": (None, "BF16"),
    "float32": ("<f4", "F32"),
    "float64": ("<f8", "F64"),
}


def sample(dtype, shape):
    """The sample array for `dtype` and `shape`, C order.

    With i = arange(n) reshaped to `shape`:
      bool i % 3 == 1; uint8 (7 i) % 256; int8 (7 i) % 256 - 128; int16 1000 i - 3000;
      int32 100003 i - 7; int64 10^12 i - 5; float16 0.5 i - 1.25; bfloat16 the top half of
      float32(0.25 i - 1.5); float32 0.25 i - 1.5; float64 i / 3 - 2.
    """
    n = int(np.prod(shape, dtype=np.int64))
    i = np.arange(n, dtype=np.int64).reshape(shape)
    if dtype == "bool":
        return i % 3 == 1
    if dtype == "uint8":
        return ((7 * i) % 256).astype(np.uint8)
    if dtype == "int8":
        return ((7 * i) % 256 - 128).astype(np.int8)
    if dtype == "int16":
        return (1000 * i - 3000).astype(np.int16)
    if dtype == "int32":
        return (100003 * i - 7).astype(np.int32)
    if dtype == "int64":
        return (10**12 * i - 5).astype(np.int64)
    if dtype == "float16":
        return (0.5 * i - 1.25).astype(np.float16)
    if dtype == "bfloat16":
        f = (0.25 * i - 1.5).astype(np.float32)
        return (f.view(np.uint32) >> 16).astype(np.uint16)
    if dtype == "float32":
        return (0.25 * i - 1.5).astype(np.float32)
    if dtype == "float64":
        return i / 3.0 - 2.0
    raise ValueError(dtype)


def le_bytes(arr):
    """Elements as little-endian bytes in C order (the Swift ArrayPayload layout)."""
    a = np.ascontiguousarray(arr)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return a.tobytes(order="C")


def describe(dtype, arr):
    """Manifest entry: dtype, shape and the expected bytes as hex, or for arrays over 256
    bytes their size, CRC-32 and first 64 bytes (to keep the manifest small)."""
    import zlib
    raw = le_bytes(arr)
    if len(raw) <= 256:
        return {"dtype": dtype, "shape": list(arr.shape), "hex": raw.hex()}
    return {"dtype": dtype, "shape": list(arr.shape), "size": len(raw), "crc32": zlib.crc32(raw),
            "prefix": raw[:64].hex()}


def st_serialize(tensors, metadata=None):
    """safetensors bytes for {name: (st_dtype, shape, raw little-endian bytes)}, through the
    reference implementation (the API changed between releases: dicts, then TensorSpec)."""
    import safetensors
    keep = {}
    if hasattr(safetensors, "TensorSpec"):
        specs = {}
        for name, (dt, shape, raw) in tensors.items():
            buf = np.frombuffer(raw, dtype=np.uint8).copy() if raw else np.zeros(1, np.uint8)
            keep[name] = buf
            specs[name] = safetensors.TensorSpec(
                dtype={"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32",
                       "I64": "int64", "F16": "float16", "BF16": "bfloat16", "F32": "float32",
                       "F64": "float64"}[dt],
                shape=list(shape), data_ptr=buf.ctypes.data, data_len=len(raw))
        out = safetensors.serialize(specs, metadata=metadata)
    else:
        out = safetensors.serialize(
            {name: {"dtype": dt, "shape": list(shape), "data": raw} for name, (dt, shape, raw) in tensors.items()},
            metadata=metadata)
    del keep
    return bytes(out)


def st_deserialize(data):
    """{name: (st_dtype, shape, raw bytes)} and the metadata, through the reference implementation."""
    import safetensors
    tensors = {name: (info["dtype"], list(info["shape"]), bytes(info["data"]))
               for name, info in safetensors.deserialize(data)}
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    return tensors, header.get("__metadata__") or {}
