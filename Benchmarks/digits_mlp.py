#!/usr/bin/env python3
"""PyTorch's time per epoch for the autograd-tour digits model, for comparison.

Same data and split (Sources/autograd-tour/Resources/digits.npz), same model
(64 -> 128 -> ReLU -> 10, or with --cnn conv(1->16)-pool-conv(16->32)-pool-linear(128->10)),
Adam lr 1e-3, batch 32, shuffled each epoch; one line per epoch, then the median epoch time
and the held-out accuracy, in the format of the Swift tour.

    /tmp/ref/bin/python Benchmarks/digits_mlp.py [--cnn] [--threads N]
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--cnn", action="store_true")
parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
args = parser.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)

path = os.path.join(os.path.dirname(__file__), "..", "Sources", "autograd-tour", "Resources", "digits.npz")
data = np.load(path)
x = torch.tensor(data["images"], dtype=torch.float32) / 16
y = torch.tensor(data["labels"], dtype=torch.int64)
train_x, train_y, test_x, test_y = x[:1437], y[:1437], x[1437:], y[1437:]
torch.manual_seed(0)
if args.cnn:
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 10))
    shape, epochs = (-1, 1, 8, 8), 15
else:
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    shape, epochs = (-1, 64), 20
train_x, test_x = train_x.reshape(shape), test_x.reshape(shape)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_x, train_y), batch_size=32, shuffle=True,
                                     generator=torch.Generator().manual_seed(1))
print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {'CNN' if args.cnn else 'MLP'}, batch 32")
times = []
for epoch in range(1, epochs + 1):
    model.train()
    start = time.perf_counter()
    loss_sum, correct = 0.0, 0
    for bx, by in loader:
        optimizer.zero_grad()
        logits = model(bx)
        loss = F.cross_entropy(logits, by)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(by)
        correct += (logits.argmax(1) == by).sum().item()
    seconds = time.perf_counter() - start
    times.append(seconds)
    n = len(train_y)
    print(f"epoch {epoch:2d}/{epochs}  loss {loss_sum / n:.4f}  train accuracy {100 * correct / n:5.1f}%  time {seconds:.3f} s")
model.eval()
with torch.no_grad():
    right = (model(test_x).argmax(1) == test_y).sum().item()
print(f"test accuracy: {100 * right / len(test_y):.1f}% ({right}/{len(test_y)} held-out images); median epoch {sorted(times)[len(times) // 2]:.3f} s")
