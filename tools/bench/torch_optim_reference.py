#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes tests/fixtures/torch/optim/reference.json: a few steps of torch.optim SGD/Adam/AdamW, EMA and
# clip_grad_norm_ on fixed parameters and gradients, for the C++ optimizer tests.
# Run with Debian's python3-torch: /usr/bin/python3 tools/bench/torch_optim_reference.py
import json
import math
import os

import torch

torch.set_num_threads(1)
STEPS = 5


def values(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def initial():
    w = torch.tensor([math.sin(0.37 * i + 0.1) for i in range(12)], dtype=torch.float32).reshape(3, 4)
    b = torch.tensor([0.5 - 0.25 * i for i in range(4)], dtype=torch.float32)
    return w, b


def grads(step):
    gw = torch.tensor([math.cos(0.7 * i + step) * (1 + 0.1 * step) for i in range(12)],
                      dtype=torch.float32).reshape(3, 4)
    gb = torch.tensor([0.3 * (i - 1.5) * (-1) ** step for i in range(4)], dtype=torch.float32)
    return gw, gb


def run(make, lrs=None):
    w, b = initial()
    w.requires_grad_(True)
    b.requires_grad_(True)
    opt = make([w, b])
    trace = []
    for k in range(STEPS):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[k]
        gw, gb = grads(k)
        w.grad = gw.clone()
        b.grad = gb.clone()
        opt.step()
        trace.append({"w": values(w), "b": values(b)})
    return trace


def cosine_lrs(base, total, min_lr):
    return [min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * k / total)) for k in range(STEPS)]


def main():
    w, b = initial()
    out = {
        "steps": STEPS,
        "initial": {"w": values(w), "b": values(b)},
        "grads": [{"w": values(g[0]), "b": values(g[1])} for g in (grads(k) for k in range(STEPS))],
        "runs": {},
    }
    configs = {
        "sgd": (lambda p: torch.optim.SGD(p, lr=0.1), None),
        "sgd_momentum_wd": (lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01, dampening=0.1),
                            None),
        "sgd_nesterov": (lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True), None),
        "adam": (lambda p: torch.optim.Adam(p, lr=0.01), None),
        "adam_wd": (lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05), None),
        "adamw": (lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1), None),
        "adamw_cosine": (lambda p: torch.optim.AdamW(p, lr=0.01), cosine_lrs(0.01, STEPS, 0.001)),
    }
    options = {
        "sgd": {"lr": 0.1},
        "sgd_momentum_wd": {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "dampening": 0.1},
        "sgd_nesterov": {"lr": 0.05, "momentum": 0.8, "nesterov": True},
        "adam": {"lr": 0.01},
        "adam_wd": {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05},
        "adamw": {"lr": 0.01, "weight_decay": 0.1},
        "adamw_cosine": {"lr": 0.01, "weight_decay": 0.01, "cosine_total": STEPS, "min_lr": 0.001},
    }
    for name, (make, lrs) in configs.items():
        out["runs"][name] = {"options": options[name], "trace": run(make, lrs)}

    # EMA as diffusion code writes it: shadow = decay * shadow + (1 - decay) * param.
    w, b = initial()
    shadow = [w.clone(), b.clone()]
    ema_trace = []
    for k in range(STEPS):
        gw, gb = grads(k)
        w, b = w - 0.1 * gw, b - 0.1 * gb
        with torch.no_grad():
            for s, p in zip(shadow, (w, b)):
                s.mul_(0.9).add_(p, alpha=0.1)
        ema_trace.append({"params_w": values(w), "params_b": values(b), "w": values(shadow[0]),
                          "b": values(shadow[1])})
    out["ema"] = {"decay": 0.9, "trace": ema_trace}

    # clip_grad_norm_ on the step-0 gradients.
    w, b = initial()
    w.grad, b.grad = (g.clone() for g in grads(0))
    norm = torch.nn.utils.clip_grad_norm_([w, b], max_norm=1.0)
    out["clip"] = {"max_norm": 1.0, "norm": float(norm), "w": values(w.grad), "b": values(b.grad)}

    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "torch", "optim", "reference.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
