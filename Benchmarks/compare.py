#!/usr/bin/env python3
"""Runs autograd-bench and the same work in PyTorch and NumPy, in one run, and prints ratios.

Setup (once):
    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch numpy
    swift build -c release --product autograd-bench
Run:
    /tmp/ref/bin/python Benchmarks/compare.py [--quick] [--threads 2] [--rounds 3] [--json out.json]

Every figure is a median of repeated runs after a warm-up. For throughput (GFLOP/s) the ratio
is ours / theirs; for times (ms, us) it is theirs / ours, so > 1 always means we are faster.
With --rounds N the three libraries run in turn N times and each figure is the median over the
rounds (this VM's speed swings with other load; a burst then hits all three, not one).
NumPy is run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (the machine sets them for old
OpenBLAS builds; they slow a current one), only in its own measurements.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def median_time(fn, repeats=7, warmup=1, inner=1):
    for _ in range(warmup):
        for _ in range(inner):
            fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def calibrated_inner(fn, target=0.05):
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(100000, int(target / once)))


def torch_figures(quick, threads):
    import torch
    torch.set_num_threads(threads)
    out = {}
    def seed():
        s = torch.tensor(5.0, requires_grad=True)
        h = torch.tensor(6.0, requires_grad=True)
        (s ** 3 - h ** 2).backward()
    out["seed graph fwd+bwd"] = median_time(seed, repeats=9, inner=200) * 1e6
    def chain():
        x = torch.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(1000):
            y = y * 1.0001
        y.backward()
    out["scalar chain, per op (1000 ops fwd+bwd)"] = median_time(chain, repeats=5) / 1000 * 1e6
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 784, generator=g)
    t = torch.arange(128) % 10
    w1 = (torch.randn(784, 512, generator=g) * 0.03).requires_grad_()
    b1 = torch.zeros(512, requires_grad=True)
    w2 = (torch.randn(512, 10, generator=g) * 0.04).requires_grad_()
    b2 = torch.zeros(10, requires_grad=True)
    def step():
        loss = torch.nn.functional.cross_entropy(torch.relu(x @ w1 + b1) @ w2 + b2, t)
        loss.backward()
        with torch.no_grad():
            for p in (w1, b1, w2, b2):
                p -= 0.01 * p.grad
                p.grad = None
    out["MLP step 784-512-10, batch 128"] = median_time(step, repeats=9, warmup=3) * 1e3
    n = (1 << 20) if quick else (16 << 20)
    label = "1M" if quick else "16M"
    a = torch.randn(n, generator=g)
    b = torch.randn(n, generator=g)
    for name, fn in [("add", lambda: a + b), ("mul", lambda: a * b), ("exp", lambda: a.exp()),
                     ("tanh", lambda: a.tanh()), ("sigmoid", lambda: a.sigmoid()), ("sum", lambda: a.sum()),
                     ("max", lambda: a.max())]:
        out[f"{name} {label} f32"] = median_time(fn) * 1e3
    s = torch.randn(4096, 1000, generator=g)
    out["softmax [4096, 1000]"] = median_time(lambda: s.softmax(dim=1), repeats=5) * 1e3
    # One small CNN layer (autograd-bench's ConvBenchmarks).
    conv = "conv2d 16x32x32x32, 64 3x3, pad 1"
    cx = torch.randn(16, 32, 32, 32, generator=g)
    cw = torch.randn(64, 32, 3, 3, generator=g) * 0.06
    cb = torch.zeros(64)
    with torch.no_grad():
        out[f"{conv} fwd"] = median_time(lambda: torch.nn.functional.conv2d(cx, cw, cb, padding=1),
                                         warmup=2) * 1e3
    gx, gw, gb = (t.clone().requires_grad_() for t in (cx, cw, cb))
    def conv_step():
        torch.nn.functional.conv2d(gx, gw, gb, padding=1).sum().backward()
        for p in (gx, gw, gb):
            p.grad = None
    out[f"{conv} fwd+bwd"] = median_time(conv_step, warmup=2) * 1e3
    out["logSoftmax [4096, 1000]"] = median_time(lambda: s.log_softmax(dim=1), repeats=5) * 1e3
    out["softmax [4096, 1000] dim 0"] = median_time(lambda: s.softmax(dim=0), repeats=5) * 1e3
    leaf = s.clone().requires_grad_()
    gy = torch.randn(4096, 1000, generator=g)
    def softmax_fwd_bwd():
        leaf.softmax(dim=1).backward(gy)
        leaf.grad = None
    out["softmax fwd+bwd [4096, 1000]"] = median_time(softmax_fwd_bwd, repeats=5) * 1e3
    square = torch.randn(2048, 2048, generator=g)
    images = torch.randn(16, 64, 32, 32, generator=g)
    one = torch.tensor(1.0)
    out["contiguous of transposed [2048, 2048]"] = median_time(lambda: square.t().contiguous(), repeats=7) * 1e3
    out["contiguous of permuted NCHW->NHWC [16, 64, 32, 32]"] = median_time(
        lambda: images.permute(0, 2, 3, 1).contiguous(), repeats=7) * 1e3
    out["contiguous of expanded scalar [16, 64, 32, 32]"] = median_time(
        lambda: one.expand(16, 64, 32, 32).contiguous(), repeats=7) * 1e3
    # Everyday layer ops (autograd-bench's LayerOpBenchmarks).
    F = torch.nn.functional
    la, lb = torch.randn(4096, 1000, generator=g), torch.randn(4096, 1000, generator=g)
    lh = torch.randn(4096, 1024, generator=g)
    gamma, beta = torch.ones(1024), torch.zeros(1024)
    limages = torch.randn(16, 64, 32, 32, generator=g)
    stats = (torch.zeros(64), torch.ones(64), torch.ones(64), torch.zeros(64))
    rows = torch.tensor([(i * 7919) % 4096 for i in range(4096)])
    leaf, upstream = la.clone().requires_grad_(), torch.ones(4096, 1000)
    ln_params = [lh.clone().requires_grad_(), gamma.clone().requires_grad_(), beta.clone().requires_grad_()]
    ln_upstream = torch.randn(4096, 1024, generator=g)
    square, square2 = torch.randn(2048, 2048, generator=g), torch.randn(2048, 2048, generator=g)
    table, tokens = torch.randn(50000, 512, generator=g), torch.randint(50000, (64, 128), generator=g)
    targets, picks = torch.zeros(1000, 1000), torch.randint(1000, (4096,), generator=g)

    def layer_norm_fwd_bwd():
        for p in ln_params:
            p.grad = None
        F.layer_norm(ln_params[0], [1024], ln_params[1], ln_params[2]).backward(ln_upstream)

    def gelu_fwd_bwd():
        leaf.grad = None
        F.gelu(leaf).backward(upstream)
    for name, fn in [
            ("sum(dim: 1) [4096, 1000]", lambda: la.sum(dim=1)),
            ("max(dim: 1) [4096, 1000]", lambda: la.max(dim=1)),
            ("layerNorm [4096, 1024]", lambda: F.layer_norm(lh, [1024], gamma, beta)),
            ("layerNorm fwd+bwd [4096, 1024]", layer_norm_fwd_bwd),
            ("batchNorm eval [16, 64, 32, 32]", lambda: F.batch_norm(limages, stats[0], stats[1], stats[2], stats[3],
                                                                      training=False)),
            ("batchNorm train [16, 64, 32, 32]", lambda: F.batch_norm(limages, None, None, stats[2], stats[3],
                                                                       training=True)),
            ("maxPool2d 2x2 [16, 64, 32, 32]", lambda: F.max_pool2d(limages, 2)),
            ("avgPool2d 2x2 [16, 64, 32, 32]", lambda: F.avg_pool2d(limages, 2)),
            ("cumsum(dim: 1) [4096, 1000]", lambda: la.cumsum(dim=1)),
            ("indexSelect 4096 rows of [4096, 1000]", lambda: la.index_select(0, rows)),
            ("cat dim 0, 2 x [4096, 1000]", lambda: torch.cat([la, lb], dim=0)),
            ("pow(2) [4096, 1000]", lambda: la.pow(2)),
            ("clamp(-0.5, 0.5) [4096, 1000]", lambda: la.clamp(-0.5, 0.5)),
            ("a.T + b.T [2048, 2048]", lambda: square.t() + square2.t()),
            ("a.T.exp() [2048, 2048]", lambda: square.t().exp()),
            ("sort(dim: 1) [4096, 1000]", lambda: la.sort(dim=1, stable=True)),
            ("topk(10) [4096, 1000]", lambda: la.topk(10)),
            ("embedding [64, 128] of [50000, 512]", lambda: F.embedding(tokens, table)),
            ("indexAdd 4096 rows into [1000, 1000]", lambda: targets.index_add(0, picks, la)),
            ("gelu [4096, 1000]", lambda: F.gelu(la)),
            ("gelu fwd+bwd [4096, 1000]", gelu_fwd_bwd)]:
        out[name] = median_time(fn, repeats=7) * 1e3
    out.update(gemm_figures(lambda shape, dt: torch.randn(*shape, dtype=dt, generator=g),
                            lambda a, b: a @ b, torch.float32, torch.float64, quick))
    return out


def gemm_figures(make, matmul, f32, f64, quick):
    out = {}
    sizes = [64, 256, 512] if quick else [64, 128, 256, 512, 1024, 2048]
    for dt, prefix in [(f32, "sgemm"), (f64, "dgemm")]:
        for n in sizes:
            a, b = make((n, n), dt), make((n, n), dt)
            inner = calibrated_inner(lambda: matmul(a, b))
            t = median_time(lambda: matmul(a, b), repeats=3 if n >= 1024 else 5, inner=inner)
            out[f"{prefix} {n}"] = 2 * n ** 3 / t / 1e9
    shapes = [(4096, 256, 64)] if quick else [(8192, 256, 64), (64, 4096, 64), (4096, 64, 4096), (128, 784, 512)]
    for m, k, n in shapes:
        a, b = make((m, k), f32), make((k, n), f32)
        inner = calibrated_inner(lambda: matmul(a, b))
        t = median_time(lambda: matmul(a, b), repeats=5, inner=inner)
        out[f"sgemm {m}x{k}x{n}"] = 2 * m * k * n / t / 1e9
    return out


NUMPY_SCRIPT = r"""
import json, sys, time, statistics
import numpy as np
sys.path.insert(0, sys.argv[2])
from compare import gemm_figures, median_time
quick = sys.argv[1] == "1"
rng = np.random.default_rng(0)
out = gemm_figures(lambda shape, dt: rng.standard_normal(shape).astype(dt), lambda a, b: a @ b,
                   np.float32, np.float64, quick)
n = (1 << 20) if quick else (16 << 20)
label = "1M" if quick else "16M"
a = rng.standard_normal(n).astype(np.float32); b = rng.standard_normal(n).astype(np.float32)
for name, fn in [("add", lambda: a + b), ("mul", lambda: a * b), ("exp", lambda: np.exp(a)),
                 ("tanh", lambda: np.tanh(a)), ("sum", lambda: a.sum()), ("max", lambda: a.max())]:
    out[f"{name} {label} f32"] = median_time(fn) * 1e3
square = rng.standard_normal((2048, 2048)).astype(np.float32)
images = rng.standard_normal((16, 64, 32, 32)).astype(np.float32)
one = np.float32(1.0)
out["contiguous of transposed [2048, 2048]"] = median_time(lambda: np.ascontiguousarray(square.T), repeats=7) * 1e3
out["contiguous of permuted NCHW->NHWC [16, 64, 32, 32]"] = median_time(
    lambda: np.ascontiguousarray(images.transpose(0, 2, 3, 1)), repeats=7) * 1e3
out["contiguous of expanded scalar [16, 64, 32, 32]"] = median_time(
    lambda: np.ascontiguousarray(np.broadcast_to(one, (16, 64, 32, 32))), repeats=7) * 1e3
print(json.dumps(out))
"""


def numpy_figures(quick, threads):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run([sys.executable, "-c", NUMPY_SCRIPT, "1" if quick else "0", here],
                            env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def ours(quick, threads, binary):
    env = dict(os.environ)
    env["AUTOGRAD_NUM_THREADS"] = str(threads)
    args = [binary, "--json"] + (["--quick"] if quick else [])
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return {r["name"]: (r["value"], r["unit"]) for r in json.loads(result.stdout)["results"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--binary", default=".build/release/autograd-bench")
    parser.add_argument("--json", help="also write the table as JSON here")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the three libraries in turn this many times; report medians")
    args = parser.parse_args()
    # Rounds alternate the three libraries, so a burst of load on the machine hits all of them;
    # every figure is then the median over the rounds.
    runs_mine, runs_torch, runs_numpy = [], [], []
    for _ in range(args.rounds):
        runs_mine.append(ours(args.quick, args.threads, args.binary))
        runs_torch.append(torch_figures(args.quick, args.threads))
        runs_numpy.append(numpy_figures(args.quick, args.threads))
    mine = {name: (statistics.median(run[name][0] for run in runs_mine), unit)
            for name, (_, unit) in runs_mine[0].items()}
    theirs_torch = {name: statistics.median(run[name] for run in runs_torch) for name in runs_torch[0]}
    theirs_numpy = {name: statistics.median(run[name] for run in runs_numpy) for name in runs_numpy[0]}
    load = os.getloadavg()
    print(f"# {args.rounds} round(s), {args.threads} threads, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    rows = []
    print(f"{'figure':44} {'swift-autograd':>16} {'PyTorch':>10} {'NumPy':>10} {'vs torch':>9} {'vs numpy':>9}")
    for name, (value, unit) in mine.items():
        higher = unit.startswith("GFLOP")
        def ratio(other):
            if other is None or value == 0:
                return None
            return value / other if higher else other / value
        t, n = theirs_torch.get(name), theirs_numpy.get(name)
        rt, rn = ratio(t), ratio(n)
        fmt = lambda v: f"{v:10.3f}" if v is not None else f"{'-':>10}"
        fr = lambda v: f"{v:8.2f}x" if v is not None else f"{'-':>9}"
        print(f"{name:44} {value:10.3f} {unit:5} {fmt(t)} {fmt(n)} {fr(rt)} {fr(rn)}")
        rows.append({"name": name, "unit": unit, "swift": value, "torch": t, "numpy": n, "vsTorch": rt, "vsNumpy": rn})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
