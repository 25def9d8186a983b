#!/usr/bin/env python3
"""The GPU benchmarks of `autograd-bench --device cuda --bench`, in PyTorch, for comparison.

Same workloads, sizes and timing method (median of 5 timed runs after a warm-up, the device
synchronised around each): sgemm 4096x4096 (float32, TF32 off, as torch.matmul defaults),
add on 256M float32 against a device-to-device copy, and the MLP 784-512-10 step at batch
128 (forward, cross-entropy, backward, SGD by hand, loss.item()).

Usage: python3 Benchmarks/gpu_compare.py [--quick]
"""
import sys
import time

import torch


def timed(body, repeats, runs=5):
    body()
    torch.cuda.synchronize()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeats):
            body()
        torch.cuda.synchronize()
        samples.append((time.perf_counter() - start) / repeats)
    return sorted(samples)[len(samples) // 2]


def main():
    quick = "--quick" in sys.argv
    if not torch.cuda.is_available():
        print("PyTorch: CUDA unavailable")
        return 0
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda:0")
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(0)}")

    n = 512 if quick else 4096
    a = torch.rand(n, n, device=device)
    b = torch.rand(n, n, device=device)
    seconds = timed(lambda: a @ b, 2 if quick else 10)
    print(f"sgemm {n}x{n}: {seconds * 1e3:.3f} ms, {2 * n ** 3 / seconds / 1e9:.1f} GFLOP/s")
    del a, b

    count = 1 << 22 if quick else 1 << 28
    x = torch.full((count,), 1.5, device=device)
    y = torch.full((count,), 2.25, device=device)
    add = timed(lambda: x + y, 2 if quick else 10)
    copy = timed(lambda: x.clone(), 2 if quick else 10)
    add_bw, copy_bw = 3 * count * 4 / add / 1e9, 2 * count * 4 / copy / 1e9
    print(f"add {count >> 20}M float32: {add * 1e3:.3f} ms, {add_bw:.1f} GB/s")
    print(f"device-to-device copy {count >> 20}M float32: {copy * 1e3:.3f} ms, {copy_bw:.1f} GB/s")
    print(f"add / copy bandwidth: {100 * add_bw / copy_bw:.1f} %")
    del x, y

    batch, inputs, hidden, classes, lr = 128, 784, 512, 10, 0.01
    torch.manual_seed(0)
    data = torch.randn(batch, inputs, device=device)
    targets = (torch.arange(batch, device=device) % classes)
    params = [
        (torch.randn(inputs, hidden, device=device) * 0.03).requires_grad_(),
        torch.zeros(hidden, device=device, requires_grad=True),
        (torch.randn(hidden, classes, device=device) * 0.04).requires_grad_(),
        torch.zeros(classes, device=device, requires_grad=True),
    ]
    last = [0.0]

    def step():
        h = (data @ params[0] + params[1]).relu()
        loss = torch.nn.functional.cross_entropy(h @ params[2] + params[3], targets)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
        last[0] = loss.item()

    seconds = timed(step, 2 if quick else 20)
    print(f"MLP step {inputs}-{hidden}-{classes}, batch {batch} (forward, backward, SGD, loss.item()): "
          f"{seconds * 1e3:.3f} ms (loss {last[0]:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
