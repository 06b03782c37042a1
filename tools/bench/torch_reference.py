#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes PyTorch reference fixtures for the tensor ops (tests/fixtures/torch/*.safetensors).
"""PyTorch parity fixtures for difflab's ops.h, nn_ops.h and attention module.

Run with Debian's python3-torch (the pyenv python on PATH has no torch):

    /usr/bin/python3 tools/bench/torch_reference.py [output_dir]

Each case builds seeded inputs and weights, runs the op in float64, and backpropagates a
seeded output gradient `grad_out` (so every input gradient is d(sum(out * grad_out))/d input).
One safetensors file per case (the format difflab reads with difflab/io/safetensors.h; written
here by hand, so no Python package beyond torch is needed):

    tensors   x, weight, ... (the inputs), out, grad_out, grad_x, grad_weight, ... (F32)
    metadata  {"op": "conv2d", "params": "{\"stride\": 1, ...}"}   (params as a JSON string)

Values are rounded to float32 (what the C++ side reads); references come from float64 so
that the C++ f32 result is compared against the exact answer. CI has no PyTorch: the files
are committed and this script regenerates them.
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

OUT_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "torch")


def seeded(seed, *shape):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g, dtype=torch.float64)


def f32(t):
    """The value as the C++ side will read it: inputs are rounded to f32 before the op."""
    return t.to(torch.float32).to(torch.float64)


def write_case(name_of_case, op, params, inputs, fn, constants=None):
    """inputs: dict name -> tensor (float64); fn(**inputs, **constants) -> out. Writes out and
    the gradient of every input; constants (labels, ids, targets) are stored without one."""
    constants = {k: f32(v) for k, v in (constants or {}).items()}
    leaves = {k: f32(v).requires_grad_(True) for k, v in inputs.items()}
    out = fn(**leaves, **constants)
    grad_out = f32(seeded(9999, *out.shape))
    out.backward(grad_out)
    tensors = {k: v.detach() for k, v in leaves.items()}
    tensors.update(constants)
    tensors["out"] = out.detach()
    tensors["grad_out"] = grad_out
    for k, v in leaves.items():
        tensors["grad_" + k] = v.grad
    header = {"__metadata__": {"op": op, "params": json.dumps(params, sort_keys=True)}}
    data = bytearray()
    for name, value in tensors.items():
        values = value.to(torch.float32).contiguous().flatten().tolist()
        blob = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(value.shape),
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data area starts 8-byte aligned
    path = os.path.join(OUT_DIR, name_of_case + ".safetensors")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))
    print("%-36s %6d bytes" % (name_of_case + ".safetensors", os.path.getsize(path)))


def attention(q, k, v, heads):
    b, tq, d = q.shape
    tk, dv = k.shape[1], v.shape[2]
    qh = q.view(b, tq, heads, d // heads).transpose(1, 2)
    kh = k.view(b, tk, heads, d // heads).transpose(1, 2)
    vh = v.view(b, tk, heads, dv // heads).transpose(1, 2)
    p = torch.softmax(qh @ kh.transpose(-2, -1) / math.sqrt(d // heads), dim=-1)
    return (p @ vh).transpose(1, 2).reshape(b, tq, dv)


def write_ops_cases():
    """ops.h: pointwise functions, broadcasting arithmetic, reductions, joins, embedding, losses."""
    x = seeded(100, 2, 3, 4) * 1.5
    positive = seeded(101, 2, 3, 4).abs() + 0.1
    for name, fn, source in [("exp", torch.exp, x), ("log", torch.log, positive), ("sqrt", torch.sqrt, positive),
                             ("abs", torch.abs, x), ("relu", F.relu, x), ("silu", F.silu, x), ("gelu", F.gelu, x),
                             ("sigmoid", torch.sigmoid, x), ("tanh", torch.tanh, x)]:
        write_case("op_" + name, name, {}, {"x": source}, lambda x, fn=fn: fn(x))
    write_case("op_pow", "pow", {"exponent": 2.5}, {"x": positive}, lambda x: torch.pow(x, 2.5))
    write_case("op_clamp", "clamp", {"low": -0.5, "high": 0.7}, {"x": x}, lambda x: torch.clamp(x, -0.5, 0.7))
    a, b = seeded(102, 2, 3, 4), seeded(103, 3, 1)
    b_away_from_zero = b.sign() * (b.abs() + 0.5)
    for name, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        write_case("op_" + name + "_broadcast", name, {}, {"a": a, "b": b_away_from_zero if name == "div" else b},
                   lambda a, b, fn=fn: fn(a, b))
    write_case("op_sum", "sum", {"dims": [0, 2], "keepdim": False}, {"x": x}, lambda x: x.sum(dim=(0, 2)))
    write_case("op_mean", "mean", {"dims": [1], "keepdim": True}, {"x": x}, lambda x: x.mean(dim=1, keepdim=True))
    write_case("op_concat", "concat", {"dim": 1}, {"a": seeded(104, 2, 2, 3), "b": seeded(105, 2, 3, 3)},
               lambda a, b: torch.cat([a, b], dim=1))
    write_case("op_embedding", "embedding", {}, {"table": seeded(106, 5, 3)},
               lambda table, ids: F.embedding(ids.long(), table),
               constants={"ids": torch.tensor([4.0, 0.0, 2.0, 4.0], dtype=torch.float64)})
    pred, target = seeded(107, 3, 5), seeded(108, 3, 5)
    write_case("op_mse_loss", "mse_loss", {}, {"prediction": pred, "target": target},
               lambda prediction, target: F.mse_loss(prediction, target))
    write_case("op_l1_loss", "l1_loss", {}, {"prediction": pred, "target": target},
               lambda prediction, target: F.l1_loss(prediction, target))
    write_case("op_cross_entropy", "cross_entropy", {}, {"logits": seeded(109, 4, 5) * 2},
               lambda logits, labels: F.cross_entropy(logits, labels.long()),
               constants={"labels": torch.tensor([1.0, 0.0, 4.0, 2.0], dtype=torch.float64)})
    write_case("op_bce_with_logits", "binary_cross_entropy_with_logits", {}, {"logits": seeded(110, 3, 4) * 3},
               lambda logits, targets: F.binary_cross_entropy_with_logits(logits, targets),
               constants={"targets": torch.sigmoid(seeded(111, 3, 4))})  # soft targets in (0, 1)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(0)
    write_ops_cases()
    write_case("conv2d", "conv2d", {"stride": 1, "padding": 1, "dilation": 1, "groups": 1},
               {"x": seeded(1, 2, 4, 7, 7), "weight": seeded(2, 6, 4, 3, 3) * 0.2, "bias": seeded(3, 6)},
               lambda x, weight, bias: F.conv2d(x, weight, bias, stride=1, padding=1))
    write_case("conv2d_strided_grouped", "conv2d", {"stride": 2, "padding": 2, "dilation": 2, "groups": 2},
               {"x": seeded(4, 2, 4, 9, 9), "weight": seeded(5, 6, 2, 3, 3) * 0.2, "bias": seeded(6, 6)},
               lambda x, weight, bias: F.conv2d(x, weight, bias, stride=2, padding=2, dilation=2, groups=2))
    write_case("conv2d_nobias_batch1", "conv2d", {"stride": 1, "padding": 0, "dilation": 1, "groups": 1},
               {"x": seeded(7, 1, 3, 6, 5), "weight": seeded(8, 5, 3, 1, 3) * 0.3},
               lambda x, weight: F.conv2d(x, weight, None))
    write_case("conv2d_add", "conv2d_add", {"stride": 1, "padding": 1, "dilation": 1, "groups": 1},
               {"x": seeded(13, 2, 3, 5, 6), "weight": seeded(14, 4, 3, 3, 3) * 0.2, "bias": seeded(15, 4),
                "residual": seeded(16, 2, 4, 5, 6)},
               lambda x, weight, bias, residual: F.conv2d(x, weight, bias, padding=1) + residual)
    write_case("conv3d", "conv3d", {"stride": 1, "padding": 1, "dilation": 1, "groups": 1},
               {"x": seeded(10, 1, 2, 4, 5, 5), "weight": seeded(11, 3, 2, 3, 3, 3) * 0.2, "bias": seeded(12, 3)},
               lambda x, weight, bias: F.conv3d(x, weight, bias, stride=1, padding=1))
    write_case("linear", "linear", {},
               {"x": seeded(20, 2, 3, 5), "weight": seeded(21, 4, 5), "bias": seeded(22, 4)},
               lambda x, weight, bias: F.linear(x, weight, bias))
    write_case("matmul_broadcast", "matmul", {},
               {"a": seeded(23, 2, 1, 3, 4), "b": seeded(24, 3, 4, 5)},
               lambda a, b: torch.matmul(a, b))
    write_case("group_norm", "group_norm", {"groups": 3, "eps": 1e-5},
               {"x": seeded(30, 2, 6, 4, 4) * 2 + 1, "weight": seeded(31, 6), "bias": seeded(32, 6)},
               lambda x, weight, bias: F.group_norm(x, 3, weight, bias, eps=1e-5))
    write_case("group_norm_silu", "group_norm_silu", {"groups": 2, "eps": 1e-5},
               {"x": seeded(36, 2, 4, 3, 5), "weight": seeded(37, 4), "bias": seeded(38, 4)},
               lambda x, weight, bias: F.silu(F.group_norm(x, 2, weight, bias, eps=1e-5)))
    write_case("layer_norm", "layer_norm", {"eps": 1e-5},
               {"x": seeded(33, 3, 4, 8) * 2 - 1, "weight": seeded(34, 8), "bias": seeded(35, 8)},
               lambda x, weight, bias: F.layer_norm(x, (8,), weight, bias, eps=1e-5))
    write_case("softmax", "softmax", {"dim": -1},
               {"x": seeded(40, 3, 7) * 3}, lambda x: torch.softmax(x, dim=-1))
    write_case("log_softmax", "log_softmax", {"dim": 1},
               {"x": seeded(41, 2, 5, 3) * 3}, lambda x: torch.log_softmax(x, dim=1))
    write_case("avg_pool2d", "avg_pool2d", {"kernel": 2, "stride": 2},
               {"x": seeded(50, 2, 3, 6, 6)}, lambda x: F.avg_pool2d(x, 2, 2))
    write_case("max_pool2d", "max_pool2d", {"kernel": 3, "stride": 2},
               {"x": seeded(51, 2, 3, 7, 7)}, lambda x: F.max_pool2d(x, 3, 2))
    for name, mode, shape, size in [("nearest_up", "nearest", (1, 2, 4, 5), (8, 10)),
                                    ("nearest_down", "nearest", (1, 2, 8, 8), (4, 4)),
                                    ("bilinear_up", "bilinear", (1, 2, 4, 5), (7, 9)),
                                    ("bilinear_down", "bilinear", (1, 2, 8, 8), (3, 5))]:
        kwargs = {} if mode == "nearest" else {"align_corners": False}
        write_case("interpolate_" + name, "interpolate", {"mode": mode, "size": list(size)},
                   {"x": seeded(60, *shape)},
                   lambda x, mode=mode, size=size, kwargs=kwargs: F.interpolate(x, size=size, mode=mode, **kwargs))
    write_case("attention_cross", "attention", {"heads": 2},
               {"q": seeded(70, 2, 5, 8), "k": seeded(71, 2, 6, 8), "v": seeded(72, 2, 6, 8)},
               lambda q, k, v: attention(q, k, v, 2))
    # multi_head_attention (difflab/tensor/attention.h): diffusers-style to_q/to_k/to_v/to_out.
    def attention_module(x, context, **w):
        q = F.linear(x, w["to_q.weight"])
        k = F.linear(context, w["to_k.weight"])
        v = F.linear(context, w["to_v.weight"])
        return F.linear(attention(q, k, v, 2), w["to_out.weight"], w["to_out.bias"])

    write_case("attention_module_cross", "multi_head_attention", {"dim": 8, "heads": 2, "context_dim": 6},
               {"x": seeded(80, 2, 5, 8), "context": seeded(81, 2, 3, 6),
                "to_q.weight": seeded(82, 8, 8) * 0.3, "to_k.weight": seeded(83, 8, 6) * 0.3,
                "to_v.weight": seeded(84, 8, 6) * 0.3, "to_out.weight": seeded(85, 8, 8) * 0.3,
                "to_out.bias": seeded(86, 8)},
               attention_module)


if __name__ == "__main__":
    main()
