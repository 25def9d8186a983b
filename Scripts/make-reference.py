#!/usr/bin/env python3
"""Writes Tests/AutogradTests/Fixtures/ops-cases.json: small PyTorch reference cases for the
operator set (issue 4), read by OpsReferenceTests.swift. Run with a Python that has torch:

    python3 Scripts/make-reference.py

Each case runs one op forward and backward in float64 (inputs of a few elements, fixed seed);
the format follows shared/reference/torch-cases.json. A `promotion` section records
torch.promote_types for every dtype pair and torch.result_type for tensor/scalar mixes.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(2026)
DT = torch.float64


def spec(t, requires_grad=False):
    if t is None:
        return None
    t = t.detach()
    data = t.flatten().tolist()
    if t.dtype.is_floating_point:
        data = [float(f"{v:.13g}") if v == v and abs(v) != float("inf") else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
                for v in data]  # JSON has no NaN/Infinity
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data,
            "requiresGrad": requires_grad}


def randn(*shape, shift=0.0, scale=1.0):
    return (torch.randn(*shape, dtype=DT) * scale + shift)


cases = []


def case(op, fn, inputs, attrs=None, grad_mask=None):
    leaves = []
    for i, x in enumerate(inputs):
        needs = x.dtype.is_floating_point and (grad_mask is None or grad_mask[i])
        if x.dtype.is_floating_point:
            x = torch.where(x.isfinite(), torch.round(x * 1e6) / 1e6, x)  # short, exact inputs
        leaves.append(x.clone().requires_grad_(needs))
    out = fn(*leaves)
    cot = None
    grads = [None] * len(leaves)
    if out.requires_grad:
        if out.numel() == 1 and out.dim() == 0:
            out.backward()
        else:
            cot = torch.randn(out.shape, dtype=out.dtype)
            out.backward(cot)
        grads = [spec(l.grad) if l.requires_grad else None for l in leaves]
    cases.append({"op": op, "attrs": attrs or {}, "inputs": [spec(l, l.requires_grad) for l in leaves],
                  "output": spec(out), "cotangent": spec(cot), "grads": grads})


x = randn(2, 3)
pos = randn(2, 3).abs() + 0.5
# Elementwise
case("expm1", torch.expm1, [x])
case("log1p", torch.log1p, [pos])
case("log2", torch.log2, [pos])
case("rsqrt", torch.rsqrt, [pos])
case("tan", torch.tan, [randn(2, 3, scale=0.5)])
case("erf", torch.erf, [x])
case("reciprocal", torch.reciprocal, [pos])
case("floor", torch.floor, [x * 3])
case("ceil", torch.ceil, [x * 3])
case("round", torch.round, [torch.tensor([0.5, 1.5, 2.5, -0.5, -1.7, 2.2], dtype=DT)])
case("round_decimals", lambda t: torch.round(t, decimals=2), [x], {"decimals": 2})
case("trunc", torch.trunc, [x * 3])
case("gelu", F.gelu, [x])
case("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), [x])
case("silu", F.silu, [x])
case("softplus", lambda t: F.softplus(t, beta=2, threshold=3), [x * 2], {"beta": 2, "threshold": 3})
case("leaky_relu", lambda t: F.leaky_relu(t, 0.2), [x], {"negativeSlope": 0.2})
case("elu", lambda t: F.elu(t, 1.5), [x], {"alpha": 1.5})
case("hardtanh", lambda t: F.hardtanh(t, -0.5, 0.5), [x], {"min": -0.5, "max": 0.5})
case("clamp", lambda t: t.clamp(-0.5, 0.7), [x], {"min": -0.5, "max": 0.7})
case("clamp_min", lambda t: t.clamp(min=0.1), [x], {"min": 0.1})
case("clamp_tensor", lambda t, lo, hi: t.clamp(lo, hi), [x, randn(3, shift=-0.3), randn(2, 1, shift=0.5)])
case("nan_to_num", lambda t: torch.nan_to_num(t, nan=1.5, posinf=9.0, neginf=-9.0),
     [torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), -2.0, 0.25], dtype=DT)], {"nan": 1.5, "posinf": 9.0, "neginf": -9.0})
# Reductions
r = randn(2, 3, 4)
case("prod", torch.prod, [randn(2, 3, shift=0.2)])
case("prod_dim", lambda t: t.prod(1, keepdim=True), [r], {"dim": 1, "keepDim": True})
case("prod_zero", lambda t: t.prod(1), [torch.tensor([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]], dtype=DT)], {"dim": 1})
case("amax", lambda t: t.amax((0, 2)), [r], {"dims": [0, 2]})
case("amin", lambda t: t.amin(1, keepdim=True), [r], {"dims": [1], "keepDim": True})
case("amax_ties", lambda t: t.amax(1), [torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype=DT)], {"dims": [1]})
case("var", lambda t: t.var(), [r])
case("var_dims", lambda t: t.var((0, 2), correction=0, keepdim=True), [r], {"dims": [0, 2], "correction": 0, "keepDim": True})
case("std", lambda t: t.std(1), [r], {"dims": [1], "correction": 1})
case("std_all", lambda t: t.std(correction=2), [r], {"correction": 2})
case("logsumexp", lambda t: t.logsumexp(1), [r * 10], {"dims": [1]})
case("logsumexp_all", lambda t: t.logsumexp((0, 1, 2)), [r], {"dims": [0, 1, 2]})
case("norm2", lambda t: torch.linalg.vector_norm(t), [r], {"p": 2})
case("norm1_dim", lambda t: torch.linalg.vector_norm(t, 1, dim=1), [r], {"p": 1, "dims": [1]})
case("norminf_dim", lambda t: torch.linalg.vector_norm(t, float("inf"), dim=(0, 2), keepdim=True), [r],
     {"p": "inf", "dims": [0, 2], "keepDim": True})
case("norm3", lambda t: torch.linalg.vector_norm(t, 3, dim=-1), [r], {"p": 3, "dims": [-1]})
case("cumsum", lambda t: t.cumsum(1), [r], {"dim": 1})
case("cumprod", lambda t: t.cumprod(-1), [r], {"dim": -1})
case("cumprod_zero", lambda t: t.cumprod(0), [torch.tensor([2.0, 0.0, 3.0, 0.5], dtype=DT)], {"dim": 0})
# Linear algebra
case("outer", torch.outer, [randn(3), randn(4)])
case("einsum_mm", lambda a, b: torch.einsum("ij,jk->ik", a, b), [randn(2, 3), randn(3, 4)], {"equation": "ij,jk->ik"})
case("einsum_bmm", lambda a, b: torch.einsum("bij,bkj->bik", a, b), [randn(2, 2, 3), randn(2, 4, 3)], {"equation": "bij,bkj->bik"})
case("einsum_trace", lambda a: torch.einsum("ii", a), [randn(3, 3)], {"equation": "ii"})
case("einsum_transpose", lambda a: torch.einsum("ij->ji", a), [randn(2, 3)], {"equation": "ij->ji"})
case("einsum_sum", lambda a: torch.einsum("ijk->j", a), [r], {"equation": "ijk->j"})
case("einsum_ellipsis", lambda a, b: torch.einsum("...ij,...jk", a, b), [randn(2, 2, 3), randn(3, 2)], {"equation": "...ij,...jk"})
case("einsum_outer_diag", lambda a, b: torch.einsum("i,i,j->ij", a, b, b), [randn(3), randn(3)], {"equation": "i,i,j->ij", "operands": [0, 1, 1]})
case("matmul_1d_3d", lambda a, b: a @ b, [randn(3), randn(2, 3, 4)])
case("matmul_3d_1d", lambda a, b: a @ b, [randn(2, 4, 3), randn(3)])
case("matmul_broadcast", lambda a, b: a @ b, [randn(2, 1, 2, 3), randn(3, 3, 2)])
# Views and shapes
case("mT", lambda t: t.mT, [r])
case("flatten_range", lambda t: t.flatten(1, 2), [r], {"startDim": 1, "endDim": 2})
case("unflatten", lambda t: t.unflatten(2, (2, -1)), [r], {"dim": 2, "sizes": [2, -1]})
case("narrow", lambda t: t.narrow(2, 1, 2), [r], {"dim": 2, "start": 1, "length": 2})
case("split", lambda t: t.split(3, dim=1)[1], [randn(2, 5)], {"size": 3, "dim": 1, "piece": 1})
case("chunk", lambda t: t.chunk(3, dim=0)[2], [randn(5, 2)], {"chunks": 3, "dim": 0, "piece": 2})
case("repeat", lambda t: t.repeat(2, 1, 3), [randn(2, 3)], {"repeats": [2, 1, 3]})
case("tile", lambda t: t.tile((2,)), [randn(2, 3)], {"repeats": [2]})
case("flip", lambda t: t.flip((0, 2)), [r], {"dims": [0, 2]})
case("roll", lambda t: t.roll((1, -2), (0, 2)), [r], {"shifts": [1, -2], "dims": [0, 2]})
case("roll_flat", lambda t: t.roll(2), [randn(2, 3)], {"shifts": [2]})
case("diagonal", lambda t: t.diagonal(1, 0, 2), [r], {"offset": 1, "dim1": 0, "dim2": 2})
# Indexing
idx = torch.tensor([[0, 2, 1], [1, 1, 0]])
case("gather", lambda t, i: t.gather(1, i), [randn(2, 4), idx], {"dim": 1})
case("scatter", lambda t, i, s: t.scatter(1, i, s), [randn(2, 4), torch.tensor([[3, 0], [1, 2]]), randn(2, 2)], {"dim": 1})
case("scatter_add", lambda t, i, s: t.scatter_add(1, i, s), [randn(2, 4), idx, randn(2, 3)], {"dim": 1})
case("index_select", lambda t, i: t.index_select(1, i), [randn(2, 4), torch.tensor([3, 0, 3])], {"dim": 1})
case("index_add", lambda t, i, s: t.index_add(0, i, s, alpha=2.0), [randn(3, 2), torch.tensor([2, 0, 2]), randn(3, 2)],
     {"dim": 0, "alpha": 2.0})
case("masked_fill", lambda t, m: t.masked_fill(m, -1.0), [randn(2, 3), torch.tensor([True, False, True])], {"value": -1.0})
case("index_int", lambda t: t[1], [r])
case("index_slice_step", lambda t: t[:, 0:3:2], [r])
case("index_neg", lambda t: t[-1, 1:-1], [r])
case("index_ellipsis", lambda t: t[..., 2], [r])
case("index_newaxis", lambda t: t[None, :, 1], [r])
case("index_tensor", lambda t, i: t[i], [randn(4, 2), torch.tensor([[3, 0], [3, 1]])])
case("index_two_tensors", lambda t, i, j: t[:, i, j], [r, torch.tensor([0, 2, 2]), torch.tensor([1, 3, 3])])
case("index_separated", lambda t, i, j: t[i, :, j], [r, torch.tensor([1, 0]), torch.tensor([3, 3])])
case("index_mask", lambda t, m: t[m], [randn(2, 3), torch.tensor([[True, False, True], [False, False, True]])])
case("index_put_accumulate", lambda t, v, i: t.index_put((i,), v, accumulate=True), [randn(3, 2), randn(4, 2), torch.tensor([0, 2, 0, 1])])
# Hyperbolic and inverse trigonometric functions (appended: the cases above keep their values)
case("sinh", torch.sinh, [randn(2, 3)])
case("cosh", torch.cosh, [randn(2, 3)])
case("asin", torch.asin, [randn(2, 3, scale=0.3)])
case("acos", torch.acos, [randn(2, 3, scale=0.3)])
case("atan", torch.atan, [randn(2, 3, scale=2.0)])
case("asinh", torch.asinh, [randn(2, 3, scale=2.0)])
case("acosh", torch.acosh, [randn(2, 3).abs() + 1.1])
case("atanh", torch.atanh, [randn(2, 3, scale=0.3)])
# sort / argsort / topk (stable; values differentiable; ties and NaN placement as PyTorch)
srt = randn(3, 5)
case("sort", lambda t: torch.sort(t, dim=1, stable=True).values, [srt], {"dim": 1, "descending": False})
case("sort_desc_dim0", lambda t: torch.sort(t, dim=0, descending=True, stable=True).values, [srt], {"dim": 0, "descending": True})
ties = torch.tensor([[2.0, 1.0, 2.0, float("nan"), 1.0, -3.0], [0.0, -0.0, 5.0, 5.0, float("nan"), 1.0]], dtype=DT)
case("argsort_ties", lambda t: torch.argsort(t, dim=1, stable=True), [ties], {"dim": 1, "descending": False})
case("argsort_ties_desc", lambda t: torch.argsort(t, dim=1, descending=True, stable=True), [ties], {"dim": 1, "descending": True})
case("topk", lambda t: torch.topk(t, 3, dim=1).values, [srt], {"k": 3, "dim": 1, "largest": True})
case("topk_smallest_dim0", lambda t: torch.topk(t, 2, dim=0, largest=False).values, [srt], {"k": 2, "dim": 0, "largest": False})
case("topk_indices", lambda t: torch.topk(t, 4, dim=1).indices, [randn(2, 6)], {"k": 4, "dim": 1, "largest": True})

# Promotion
dtypes = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
promote = {f"{a},{b}": str(torch.promote_types(getattr(torch, a), getattr(torch, b))).replace("torch.", "")
           for a in dtypes for b in dtypes}
scalars = {}
for a in dtypes:
    t = torch.ones(2, dtype=getattr(torch, a))
    z = torch.ones((), dtype=torch.float64)
    zi = torch.ones((), dtype=torch.int64)
    scalars[a] = {"int": str(torch.result_type(t, 2)).replace("torch.", ""),
                  "float": str(torch.result_type(t, 2.5)).replace("torch.", ""),
                  "bool": str(torch.result_type(t, True)).replace("torch.", ""),
                  "zeroDimFloat64": str(torch.result_type(t, z)).replace("torch.", ""),
                  "zeroDimInt64": str(torch.result_type(t, zi)).replace("torch.", "")}

root = {"generator": f"PyTorch {torch.__version__}, seed 2026", "cases": cases,
        "promotion": {"promoteTypes": promote, "resultType": scalars}}
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "AutogradTests", "Fixtures", "ops-cases.json")
with open(path, "w") as f:
    json.dump(root, f, separators=(",", ":"))
print(f"{len(cases)} cases, {os.path.getsize(path)} bytes -> {os.path.normpath(path)}")
