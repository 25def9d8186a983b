#!/usr/bin/env python3
"""Runs the CKernels C benchmark, NumPy and PyTorch on the same work, in turns, and prints
the median of each figure with ratios.

    python3 Benchmarks/ckernels_compare.py [--rounds 5] [--threads 2] [--only PREFIX]
                                           [--torch /tmp/ref/bin/python] [--secs 0.3]
                                           [--stat median|max] [--json]

The C side is built with clang (what SwiftPM uses; --cc or $CC to change) and -O2.
NumPy comes from the `python3` running this script (numpy 2.x, OpenBLAS); PyTorch from the
interpreter given by --torch (default /tmp/ref/bin/python if it exists; a venv with
`pip install torch numpy` works). Both run with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed
from the environment and their thread count set to --threads. Each round measures every case
with the three libraries back to back (persistent worker processes, order rotating per case),
so the figures of a case share the machine's conditions; the table shows medians over rounds
(--stat max: the best round, closer to an idle machine when others load it). Outputs are
preallocated (out=) on every side, so the figures compare kernels, not allocators.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The same cases as ckernels_bench.c, as (name, kind, params).
SQ = [64, 128, 256, 384, 512, 768, 1024, 1536, 2048]
GEMMS = [(n, n, n, False, False, "f32") for n in SQ] + [
    (128, 512, 784, False, True, "f32"), (128, 10, 512, False, True, "f32"),
    (512, 784, 128, True, False, "f32"), (128, 784, 512, False, False, "f32"),
    (8192, 64, 256, False, False, "f32"), (64, 8192, 256, False, False, "f32"),
    (4096, 4096, 32, False, False, "f32"), (32, 32, 65536, False, False, "f32"),
    (1, 4096, 4096, False, False, "f32"), (4096, 1, 4096, False, False, "f32"),
    (512, 512, 512, False, False, "f64"), (1024, 1024, 1024, False, False, "f64"),
]
N = 16 << 20
EW = [("add", "f32"), ("mul", "f32"), ("mul scalar", "f32"), ("exp", "f32"), ("log", "f32"),
      ("tanh", "f32"), ("sigmoid", "f32"), ("relu", "f32"), ("sum", "f32"), ("max", "f32"),
      ("add", "f64"), ("exp", "f64"), ("sum", "f64")]


def gemm_name(M, N_, K, ta, tb, dt):
    p = "d" if dt == "f64" else "s"
    if M == N_ == K and not ta and not tb:
        return f"{p}gemm {M}"
    return f"{p}gemm {'T' if ta else ''}{M}x{N_}x{K}{'T' if tb else ''}"


# Runs inside numpy's or torch's interpreter; prints a JSON list like ckernels_bench --json.
PY_BENCH = r'''
import json, sys, time
lib, threads, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
import numpy as np
if lib == "torch":
    import torch
    torch.set_num_threads(threads)
def timeit(fn):
    fn()
    t0 = time.perf_counter(); calls = 0
    while time.perf_counter() - t0 < secs / 10 or calls < 2:
        fn(); calls += 1
    per = (time.perf_counter() - t0) / calls
    reps = max(1, int(secs / 5 / per))
    ts = []
    for _ in range(5):
        s = time.perf_counter()
        for _ in range(reps): fn()
        ts.append((time.perf_counter() - s) / reps)
    ts.sort(); return ts[2]
def run(c):
    name = c["name"]
    if c["kind"] == "gemm":
        M, N, K, ta, tb, dt = c["M"], c["N"], c["K"], c["ta"], c["tb"], c["dt"]
        npdt = np.float32 if dt == "f32" else np.float64
        a = (np.arange(M * K) % 17 * 0.1).astype(npdt).reshape((K, M) if ta else (M, K))
        b = (np.arange(K * N) % 13 * 0.1).astype(npdt).reshape((N, K) if tb else (K, N))
        c_ = np.empty((M, N), npdt)
        if lib == "torch":
            a, b, c_ = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c_)
            A = a.t() if ta else a; B = b.t() if tb else b
            fn = lambda: torch.matmul(A, B, out=c_)
        else:
            A = a.T if ta else a; B = b.T if tb else b
            fn = lambda: np.matmul(A, B, out=c_)
        t = timeit(fn)
        return {"name": name, "unit": "GFLOP/s", "value": 2.0 * M * N * K / t / 1e9, "us": t * 1e6}
    op, dt, n = c["op"], c["dt"], c["n"]
    npdt = np.float32 if dt == "f32" else np.float64
    x = ((np.arange(n) * 7919) % 1000 / 250.0 - 2.0 + 1e-3).astype(npdt)
    if op == "log": x = np.abs(x)
    y = (x + 3).astype(npdt); o = np.empty_like(x)
    if lib == "torch":
        x, y, o = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(o)
        T = torch
        fns = {"add": lambda: T.add(x, y, out=o), "mul": lambda: T.mul(x, y, out=o),
               "mul scalar": lambda: T.mul(x, 3.0, out=o), "exp": lambda: T.exp(x, out=o),
               "log": lambda: T.log(x, out=o), "tanh": lambda: T.tanh(x, out=o),
               "sigmoid": lambda: T.sigmoid(x, out=o), "relu": lambda: T.clamp_min(x, 0, out=o),
               "sum": lambda: T.sum(x), "max": lambda: T.max(x)}
    else:
        s3 = npdt(3.0)
        fns = {"add": lambda: np.add(x, y, out=o), "mul": lambda: np.multiply(x, y, out=o),
               "mul scalar": lambda: np.multiply(x, s3, out=o), "exp": lambda: np.exp(x, out=o),
               "log": lambda: np.log(x, out=o), "tanh": lambda: np.tanh(x, out=o),
               "relu": lambda: np.maximum(x, npdt(0), out=o),
               "sum": lambda: x.sum(), "max": lambda: x.max()}
    if op not in fns:
        return {}
    t = timeit(fns[op])
    streams = 3 if op in ("add", "mul") else 1 if op in ("sum", "max") else 2
    return {"name": name, "unit": "GB/s", "value": streams * x.itemsize * n / t / 1e9, "us": t * 1e6}
for line in sys.stdin:
    print(json.dumps(run(json.loads(line))), flush=True)
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--secs", type=float, default=0.3)
    ap.add_argument("--only", default="", help="comma-separated case-name prefixes")
    ap.add_argument("--torch", default="/tmp/ref/bin/python")
    # SwiftPM compiles the package's C with clang; GCC 12 builds of the same sources measured
    # slower at 2 threads (sgemm 256: 160-185 vs 236-240 GFLOP/s), so clang is the default.
    import shutil
    ap.add_argument("--cc", default=os.environ.get("CC") or ("clang" if shutil.which("clang") else "cc"))
    ap.add_argument("--stat", choices=("median", "max"), default="median")
    ap.add_argument("--settle", type=float, default=0.3, help="seconds of idle before each measurement")
    ap.add_argument("--json", action="store_true", help="also print all samples as JSON")
    args = ap.parse_args()

    exe = os.path.join(tempfile.gettempdir(), "ckernels_bench")
    srcs = sorted(os.path.join(ROOT, "Sources/CKernels", f)
                  for f in os.listdir(os.path.join(ROOT, "Sources/CKernels")) if f.endswith(".c"))
    subprocess.run([args.cc, "-O2", "-I" + os.path.join(ROOT, "Sources/CKernels/include"), *srcs,
                    os.path.join(HERE, "ckernels_bench.c"), "-o", exe, "-lpthread", "-lm"], check=True)

    cases = [{"kind": "gemm", "name": gemm_name(*g), "M": g[0], "N": g[1], "K": g[2], "ta": g[3],
              "tb": g[4], "dt": g[5]} for g in GEMMS]
    cases += [{"kind": "ew", "name": f"{op} {dt} {N >> 20}M", "op": op, "dt": dt, "n": N} for op, dt in EW]

    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    t = str(args.threads)
    env.update(OPENBLAS_NUM_THREADS=t, OMP_NUM_THREADS=t, MKL_NUM_THREADS=t)
    cenv = dict(os.environ, AUTOGRAD_NUM_THREADS=t)

    # Persistent workers; every case is measured by all of them back to back (order rotating),
    # so the figures of one case share the machine's conditions.
    procs = {"ckernels": subprocess.Popen([exe, "--serve", "--threads", t, "--secs", str(args.secs)],
                                          env=cenv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True),
             "numpy": subprocess.Popen([sys.executable, "-c", PY_BENCH, "numpy", t, str(args.secs)],
                                       env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)}
    if args.torch and os.path.exists(args.torch):
        procs["torch"] = subprocess.Popen([args.torch, "-c", PY_BENCH, "torch", t, str(args.secs)],
                                          env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(side, case):
        p = procs[side]
        if side == "ckernels":
            p.stdin.write(case["name"] + "\n"); p.stdin.flush()
            got = {}
            while True:
                line = p.stdout.readline()
                if not line:
                    raise RuntimeError("ckernels_bench exited")
                item = json.loads(line)
                if not item:
                    return got
                got = item
        p.stdin.write(json.dumps(case) + "\n"); p.stdin.flush()
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(side + " worker exited")
        return json.loads(line)

    sides = list(procs)
    results = {s_: {} for s_ in sides}
    load0 = os.getloadavg()
    loads = []
    prefixes = [p_.strip() for p_ in args.only.split(",")]
    todo = [c for c in cases if any(c["name"].startswith(p_) for p_ in prefixes)]
    for r in range(args.rounds):
        for i, case in enumerate(todo):
            k = (r + i) % len(sides)
            for side in sides[k:] + sides[:k]:
                # Idle OpenBLAS / OpenMP threads keep spinning for a while after a call (OpenBLAS
                # up to ~0.1 s); let them go to sleep so they do not slow the next library down.
                time.sleep(args.settle)
                item = ask(side, case)
                if item:
                    results[side].setdefault(item["name"], []).append(item["value"])
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}/{args.rounds} done, load {loads[-1]:.2f}", file=sys.stderr)
    for p in procs.values():
        p.stdin.close(); p.wait()

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip(); break
    except OSError:
        pass
    print(f"# {cpu}, {os.cpu_count()} CPUs, {args.threads} threads, {args.rounds} rounds in turns, "
          f"{args.stat} of rounds, load avg {load0[0]:.2f} -> " + " ".join(f"{l:.2f}" for l in loads))
    hdr = f"{'case':34} {'unit':8} {'ckernels':>9} {'numpy':>9} {'torch':>9} {'vs numpy':>9} {'vs torch':>9} {'vs best':>8}"
    print(hdr); print("-" * len(hdr))
    for c in todo:
        name = c["name"]
        agg = statistics.median if args.stat == "median" else max
        med = {s_: agg(results[s_][name]) for s_ in sides if name in results[s_]}
        if "ckernels" not in med:
            continue
        unit = "GFLOP/s" if c["kind"] == "gemm" else "GB/s"
        ours = med["ckernels"]
        others = [med[s] for s in ("numpy", "torch") if s in med]
        cell = lambda s: f"{med[s]:9.1f}" if s in med else f"{'-':>9}"
        ratio = lambda s: f"{ours / med[s]:8.2f}x" if s in med else f"{'-':>9}"
        best = f"{ours / max(others):7.2f}x" if others else f"{'-':>8}"
        print(f"{name:34} {unit:8} {ours:9.1f} {cell('numpy')} {cell('torch')} {ratio('numpy')} {ratio('torch')} {best}")
    if args.json:
        print(json.dumps({"load": loads, "samples": results}))


if __name__ == "__main__":
    main()
