#!/usr/bin/env python3
"""Reference values for the neural-network tests, computed with PyTorch.

Writes Tests/AutogradTests/Fixtures/nn-reference.json:
  ops:        functional NN ops in float64: inputs, upstream gradient, output, input gradients
  models:     small nn.Sequential models: state dict, input, output, parameter gradients
  optimizers: parameters after each of several steps with fixed gradients (float32)
  schedulers: learning rates per epoch
  clipping:   gradients after clip_grad_norm_/clip_grad_value_ and the returned norm
and Tests/AutogradTests/Fixtures/nn-cnn-state.safetensors, the "cnn" model's state dict saved by
safetensors.torch (read by the Swift tests to check interchange).

Run with the reference venv:  /tmp/ref/bin/python Scripts/nn-reference.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
D = torch.float64


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def enc(t):
    return {"shape": list(t.shape), "data": flat(t), "dtype": str(t.dtype).replace("torch.", "")}


def rnd(*shape, shift=0.0):
    return (torch.randn(*shape, dtype=D) + shift).requires_grad_(True)


ops = {}


def case(name, fn, inputs, consts=None):
    """inputs: dict of differentiable float64 tensors; consts: dict of other tensors."""
    consts = consts or {}
    out = fn(**inputs, **consts)
    cot = torch.randn(out.shape, dtype=D)
    grads = torch.autograd.grad(out, list(inputs.values()), cot, allow_unused=True)
    ops[name] = {
        "inputs": {k: enc(v) for k, v in inputs.items()},
        "consts": {k: enc(v) for k, v in consts.items()},
        "cotangent": enc(cot),
        "output": enc(out),
        "grads": {k: enc(g) for k, g in zip(inputs.keys(), grads) if g is not None},
        "gradFn": type(out.grad_fn).__name__,
    }


# Convolution and pooling
case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2),
     {"x": rnd(2, 4, 7, 6), "w": rnd(6, 2, 3, 2), "b": rnd(6)})
case("conv2d_plain", lambda x, w: F.conv2d(x, w), {"x": rnd(1, 3, 5, 5), "w": rnd(2, 3, 3, 3)})
case("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), {"x": rnd(2, 3, 9), "w": rnd(4, 3, 3), "b": rnd(4)})
case("max_pool2d", lambda x: F.max_pool2d(x, (3, 2), stride=(2, 2), padding=(1, 1)), {"x": rnd(2, 3, 7, 6)})
case("max_pool2d_dilated", lambda x: F.max_pool2d(x, 2, stride=1, dilation=2), {"x": rnd(1, 2, 6, 6)})
case("max_pool1d", lambda x: F.max_pool1d(x, 3, stride=2, padding=1), {"x": rnd(2, 3, 8)})
case("avg_pool2d", lambda x: F.avg_pool2d(x, (3, 3), stride=(2, 1), padding=(1, 1)), {"x": rnd(2, 2, 6, 5)})
case("avg_pool2d_exclude_pad", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False), {"x": rnd(1, 2, 6, 5)})
case("avg_pool1d", lambda x: F.avg_pool1d(x, 2), {"x": rnd(2, 3, 7)})

# Normalization
case("layer_norm", lambda x, w, b: F.layer_norm(x, [4, 5], w, b, eps=1e-5), {"x": rnd(3, 4, 5), "w": rnd(4, 5), "b": rnd(4, 5)})
case("layer_norm_plain", lambda x: F.layer_norm(x, [6]), {"x": rnd(2, 6)})
rm, rv = torch.randn(3, dtype=D), torch.rand(3, dtype=D) + 0.5
rm_train, rv_train = rm.clone(), rv.clone()
case("batch_norm_train", lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-5),
     {"x": rnd(4, 3, 5), "w": rnd(3), "b": rnd(3)}, {"rm": rm_train, "rv": rv_train})
ops["batch_norm_train"]["runningMean"] = enc(rm_train)
ops["batch_norm_train"]["runningVar"] = enc(rv_train)
ops["batch_norm_train"]["consts"] = {"rm": enc(rm), "rv": enc(rv)}
case("batch_norm_eval", lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5),
     {"x": rnd(2, 3, 2, 2), "w": rnd(3), "b": rnd(3)}, {"rm": rm, "rv": rv})

# Lookups and linear
case("embedding", lambda w, i: F.embedding(i, w, padding_idx=1), {"w": rnd(5, 3)}, {"i": torch.tensor([[0, 1, 4], [4, 2, 1]])})
case("linear", lambda x, w, b: F.linear(x, w, b), {"x": rnd(4, 5), "w": rnd(3, 5), "b": rnd(3)})
case("linear_3d", lambda x, w: F.linear(x, w), {"x": rnd(2, 4, 5), "w": rnd(3, 5)})

# Classification losses
t = torch.tensor([0, 2, 1, 2, 1])
wc = torch.rand(3, dtype=D) + 0.5
case("cross_entropy", lambda x, t: F.cross_entropy(x, t), {"x": rnd(5, 3)}, {"t": t})
case("cross_entropy_weight_ignore", lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=1), {"x": rnd(5, 3)}, {"t": t, "w": wc})
case("cross_entropy_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"), {"x": rnd(5, 3)}, {"t": t})
case("cross_entropy_none", lambda x, t: F.cross_entropy(x, t, reduction="none"), {"x": rnd(5, 3)}, {"t": t})
case("cross_entropy_smoothing", lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=2, label_smoothing=0.2), {"x": rnd(5, 3)}, {"t": t, "w": wc})
case("cross_entropy_smoothing_none", lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.1), {"x": rnd(5, 3)}, {"t": t})
case("cross_entropy_probs", lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1), {"x": rnd(4, 3)}, {"p": torch.softmax(torch.randn(4, 3, dtype=D), 1)})
case("cross_entropy_probs_weight_none", lambda x, p, w: F.cross_entropy(x, p, weight=w, reduction="none"), {"x": rnd(4, 3)},
     {"p": torch.softmax(torch.randn(4, 3, dtype=D), 1), "w": wc})
case("cross_entropy_kdim", lambda x, t: F.cross_entropy(x, t), {"x": rnd(2, 3, 4)}, {"t": torch.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])})
case("cross_entropy_1d", lambda x, t: F.cross_entropy(x, t), {"x": rnd(4)}, {"t": torch.tensor(3)})
case("nll_loss_weight_none", lambda x, t, w: F.nll_loss(x, t, weight=w, reduction="none"), {"x": rnd(5, 3)}, {"t": t, "w": wc})
case("nll_loss_4d", lambda x, t: F.nll_loss(x, t, ignore_index=0), {"x": rnd(2, 3, 2, 2)}, {"t": torch.tensor([[[0, 1], [2, 1]], [[2, 0], [1, 1]]])})
case("binary_cross_entropy", lambda p, y, w: F.binary_cross_entropy(p, y, weight=w),
     {"p": torch.rand(3, 4, dtype=D).mul(0.8).add(0.1).requires_grad_(True), "y": torch.rand(3, 4, dtype=D).requires_grad_(True)},
     {"w": torch.rand(4, dtype=D)})
case("binary_cross_entropy_none", lambda p, y: F.binary_cross_entropy(p, y, reduction="none"),
     {"p": torch.rand(5, dtype=D).mul(0.8).add(0.1).requires_grad_(True)}, {"y": torch.rand(5, dtype=D)})
case("bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y), {"x": rnd(3, 4), "y": torch.rand(3, 4, dtype=D).requires_grad_(True)})
case("bce_with_logits_weights", lambda x, y, w, pw: F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction="sum"),
     {"x": rnd(3, 4), "y": torch.rand(3, 4, dtype=D).requires_grad_(True)}, {"w": torch.rand(3, 1, dtype=D), "pw": torch.rand(4, dtype=D) + 0.5})

# Regression losses
case("mse_loss", lambda p, y: F.mse_loss(p, y), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("mse_loss_none", lambda p, y: F.mse_loss(p, y, reduction="none"), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("l1_loss", lambda p, y: F.l1_loss(p, y), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("l1_loss_sum", lambda p, y: F.l1_loss(p, y, reduction="sum"), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("smooth_l1_loss", lambda p, y: F.smooth_l1_loss(p, y, beta=0.5), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("smooth_l1_loss_none", lambda p, y: F.smooth_l1_loss(p, y, reduction="none"), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("huber_loss", lambda p, y: F.huber_loss(p, y, delta=0.7), {"p": rnd(3, 4), "y": rnd(3, 4)})
case("huber_loss_sum", lambda p, y: F.huber_loss(p, y, reduction="sum", delta=1.5), {"p": rnd(3, 4), "y": rnd(3, 4)})

# Models: every layer inside a Sequential, forward and backward at module level (float32).
models = {}


def model_case(name, model, x, target, train=True):
    model.train(train)
    state_before = {k: enc(v) for k, v in model.state_dict().items()}
    out = model(x)
    loss = F.cross_entropy(out.reshape(out.shape[0], -1), target)
    loss.backward()
    models[name] = {
        "state": state_before,
        "input": enc(x),
        "target": enc(target),
        "output": enc(out),
        "loss": float(loss.detach()),
        "grads": {k: enc(p.grad) for k, p in model.named_parameters()},
        "stateAfter": {k: enc(v) for k, v in model.state_dict().items()},
    }


torch.manual_seed(1)
cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(4, 6, (2, 2), stride=1, bias=False), nn.AvgPool2d(2, stride=1), nn.Tanh(), nn.Flatten(),
                    nn.Linear(6, 5), nn.Sigmoid(), nn.Dropout(0.0), nn.Linear(5, 3))
from safetensors.torch import save_file  # noqa: E402

save_file({k: v.contiguous() for k, v in cnn.state_dict().items()},
          os.path.join(os.path.dirname(__file__), "..", "Tests", "AutogradTests", "Fixtures", "nn-cnn-state.safetensors"))
model_case("cnn", cnn, torch.randn(3, 1, 6, 6), torch.tensor([0, 2, 1]))
seq = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1, stride=2), nn.BatchNorm1d(4), nn.GELU(), nn.Flatten(), nn.LayerNorm(12),
                    nn.Linear(12, 8), nn.GELU(approximate="tanh"), nn.Linear(8, 4))
with torch.no_grad():
    seq[1].running_mean.uniform_(-0.5, 0.5)
    seq[1].running_var.uniform_(0.5, 1.5)
    seq[4].weight.uniform_(0.5, 1.5)
    seq[4].bias.uniform_(-0.5, 0.5)
model_case("seq1d_eval", seq, torch.randn(4, 2, 6), torch.tensor([3, 0, 1, 2]), train=False)


# Optimizers: the same initial weights and gradient sequence, 5 steps each.
torch.manual_seed(2)
w0, b0 = torch.randn(3, 4), torch.randn(3)
gradients = [(torch.randn(3, 4), torch.randn(3)) for _ in range(5)]
configs = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01),
    "adam_wd_amsgrad": lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
    "rmsprop_centered": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
}
optimizers = {"initial": {"w": enc(w0), "b": enc(b0)}, "gradients": [{"w": enc(gw), "b": enc(gb)} for gw, gb in gradients]}
for name, make in configs.items():
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    opt = make([w, b])
    steps = []
    for gw, gb in gradients:
        w.grad, b.grad = gw.clone(), gb.clone()
        opt.step()
        steps.append({"w": enc(w), "b": enc(b)})
    optimizers[name] = steps


def schedule(make, n):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


schedulers = {
    "step": schedule(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10),
    "cosine": schedule(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01), 14),
    "linear": schedule(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 7),
}

clipping = {}
for norm in [2.0, 1.0, math.inf]:
    a, b = torch.zeros(3, 4, requires_grad=True), torch.zeros(3, requires_grad=True)
    a.grad, b.grad = gradients[0][0].clone() * 3, gradients[0][1].clone() * 3
    total = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.5, norm_type=norm)
    key = "inf" if norm == math.inf else str(int(norm))
    clipping[key] = {"before": [enc(gradients[0][0] * 3), enc(gradients[0][1] * 3)], "after": [enc(a.grad), enc(b.grad)], "total": float(total)}
a = torch.zeros(3, 4, requires_grad=True)
a.grad = gradients[0][0].clone()
torch.nn.utils.clip_grad_value_([a], clip_value=0.5)
clipping["value"] = {"before": [enc(gradients[0][0])], "after": [enc(a.grad)]}

out = {"torch": torch.__version__, "ops": ops, "models": models, "optimizers": optimizers, "schedulers": schedulers, "clipping": clipping}
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "AutogradTests", "Fixtures", "nn-reference.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
