#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# PyTorch twins of difflab's unet, unet3d, classifier and mlp networks: fixtures, parameter counts, checkpoints.
"""PyTorch reference for the networks of plugins/unet (unet, unet3d, classifier) and plugins/mlp.

The modules below build the same networks as difflab with the same parameter names (module
paths), so a difflab checkpoint (step_<n>.safetensors) loads into them with
`model.load_state_dict(safetensors.torch.load_file(path))`. Run with Debian's python3-torch (the
pyenv python on PATH has no torch):

    /usr/bin/python3 tools/bench/unet_reference.py [--out DIR] [--only NAME ...]
        writes tests/fixtures/torch/{unet_tiny,unet_class_scale_shift,mlp,mlp_class,classifier,
        classifier_untimed,unet3d_tiny}.safetensors (with --only, just the named ones)
    /usr/bin/python3 tools/bench/unet_reference.py --counts
        prints the parameter counts the C++ tests expect
    /usr/bin/python3 tools/bench/unet_reference.py --bench [--threads N]
        times PyTorch's forward and training step of the tiny and small configurations (batch 64,
        1x28x28, float32, channels-last), to set beside `difflab_unet_tool bench`
    /usr/bin/python3 tools/bench/unet_reference.py --check --tool BUILD/bin/difflab_unet_tool --work DIR
        has difflab write checkpoints with inputs, outputs and gradients (difflab_unet_tool dump),
        loads them here and checks that PyTorch reproduces them within 1e-4 (max abs error / max
        abs value); exit 0 when it does, 1 when not (the CTest test of plugins/unet)

A fixture holds the weights ("model/<name>", random: the zero-initialized output layers are
overwritten so that every weight matters), the inputs x, noise (and labels, or a video network's
clean_mask), PyTorch's output "out", a seeded "grad_out" r, and gradients of sum(out * r):
"grad/x" and "grad/<name>" for a few weights; the options (JSON, which is YAML too) in the
metadata. References run in float64 on weights and inputs rounded to float32 (what the C++ side
reads). The safetensors files are read and written by hand, so nothing beyond torch and PyYAML
is needed.
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "torch")
TOLERANCE = 1e-4

UNET_DEFAULTS = {"in_channels": 1, "out_channels": 0, "channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2,
                 "attention_resolutions": [], "image_size": 28, "num_heads": 1, "head_channels": 0, "dropout": 0.0,
                 "groups": 32, "time_scale": 1000.0, "scale_shift_norm": False, "num_classes": 0,
                 "extra_in_channels": 0, "learned_variance": False, "seed": -1}
CLASSIFIER_DEFAULTS = {"in_channels": 1, "channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2,
                       "attention_resolutions": [], "image_size": 28, "num_heads": 1, "head_channels": 0,
                       "dropout": 0.0, "groups": 32, "num_classes": 10, "time_conditioned": True,
                       "time_scale": 1000.0, "scale_shift_norm": False, "seed": -1}
UNET3D_DEFAULTS = {"in_channels": 1, "out_channels": 0, "channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2,
                   "attention_resolutions": [], "temporal_attention_resolutions": [], "image_size": 64,
                   "max_frames": 32, "num_heads": 1, "head_channels": 0, "dropout": 0.0, "groups": 32,
                   "time_scale": 1000.0, "scale_shift_norm": False, "extra_in_channels": 0, "seed": -1}
MLP_DEFAULTS = {"in_dim": 2, "hidden": 256, "layers": 3, "time_scale": 1000.0, "num_classes": 0, "seed": -1}


# --- the networks ---------------------------------------------------------------------------


def timestep_embedding(noise, dim, scale):
    """improved-diffusion's sinusoidal embedding of noise * scale: [cos(t f), sin(t f)], f_i = 10000^(-i/h)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
    args = (noise.to(torch.float64) * scale)[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class TimeEmbed(nn.Module):
    def __init__(self, dim_in, dim):
        super().__init__()
        self.linear_1 = nn.Linear(dim_in, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb, groups, scale_shift, dropout):
        super().__init__()
        self.scale_shift = scale_shift
        self.in_norm = nn.GroupNorm(groups, cin)
        self.in_conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb_proj = nn.Linear(emb, 2 * cout if scale_shift else cout)
        self.out_norm = nn.GroupNorm(groups, cout)
        self.dropout = nn.Dropout(dropout)
        self.out_conv = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb_silu):
        h = self.in_conv(F.silu(self.in_norm(x)))
        e = self.emb_proj(emb_silu)[:, :, None, None]
        if self.scale_shift:
            scale, shift = e.chunk(2, dim=1)
            h = F.silu(self.out_norm(h) * (1 + scale) + shift)
        else:
            h = F.silu(self.out_norm(h + e))
        h = self.out_conv(self.dropout(h))
        return (x if self.skip is None else self.skip(x)) + h


def attention(q, k, v, heads):
    b, t, d = q.shape
    qh, kh, vh = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
    p = torch.softmax(qh @ kh.transpose(-2, -1) / math.sqrt(d // heads), dim=-1)
    return (p @ vh).transpose(1, 2).reshape(b, t, d)


class AttentionBlock(nn.Module):
    def __init__(self, channels, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.Linear(channels, channels)

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.norm(x).permute(0, 2, 3, 1).reshape(n, h * w, c)
        a = attention(self.to_q(t), self.to_k(t), self.to_v(t), self.heads)
        return x + self.to_out(a).reshape(n, h, w, c).permute(0, 3, 1, 2)


class Stage(nn.Module):
    """One entry of the down or up path: res (+ attn) (+ upsample), or downsample."""

    def __init__(self):
        super().__init__()
        self.res = self.attn = self.downsample = self.upsample = None


class Container(nn.Module):
    pass


def level_sizes(image_size, levels):
    sizes = [image_size]
    while len(sizes) < levels:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class UNet(nn.Module):
    """difflab's unet (plugins/unet/unet.cpp), module for module."""

    def __init__(self, options):
        super().__init__()
        o = dict(UNET_DEFAULTS, **options)
        self.o = o
        ch, emb, groups = o["channels"], 4 * o["channels"], o["groups"]
        sizes = level_sizes(o["image_size"], len(o["channel_mult"]))

        def heads(c):
            return c // o["head_channels"] if o["head_channels"] > 0 else o["num_heads"]

        def res(cin, cout):
            return ResBlock(cin, cout, emb, groups, o["scale_shift_norm"], o["dropout"])

        self.time_embed = TimeEmbed(ch, emb)
        if o["num_classes"] > 0:
            self.class_embed = nn.Embedding(o["num_classes"] + 1, emb)
        self.conv_in = nn.Conv2d(o["in_channels"] + o["extra_in_channels"], ch, 3, padding=1)
        self.down = nn.ModuleList()
        skips, cur = [ch], ch
        for level, mult in enumerate(o["channel_mult"]):
            for _ in range(o["num_res_blocks"]):
                s = Stage()
                s.res = res(cur, ch * mult)
                s.level = level
                cur = ch * mult
                if sizes[level] in o["attention_resolutions"]:
                    s.attn = AttentionBlock(cur, heads(cur), groups)
                self.down.append(s)
                skips.append(cur)
            if level + 1 < len(o["channel_mult"]):
                s = Stage()
                s.downsample = nn.Conv2d(cur, cur, 3, stride=2, padding=1)
                self.down.append(s)
                skips.append(cur)
        self.mid = Container()
        self.mid.res_1 = res(cur, cur)
        self.mid.attn = AttentionBlock(cur, heads(cur), groups)
        self.mid.res_2 = res(cur, cur)
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(o["channel_mult"]))):
            for b in range(o["num_res_blocks"] + 1):
                s = Stage()
                s.res = res(cur + skips.pop(), ch * mult)
                s.level = level
                cur = ch * mult
                if sizes[level] in o["attention_resolutions"]:
                    s.attn = AttentionBlock(cur, heads(cur), groups)
                if level > 0 and b == o["num_res_blocks"]:
                    s.upsample = nn.Conv2d(cur, cur, 3, padding=1)
                self.up.append(s)
        out = o["out_channels"] or o["in_channels"]
        self.out_norm = nn.GroupNorm(groups, cur)
        self.conv_out = nn.Conv2d(cur, 2 * out if o["learned_variance"] else out, 3, padding=1)

    def forward(self, x, noise, labels=None):
        o = self.o
        emb = self.time_embed(timestep_embedding(noise, o["channels"], o["time_scale"]).to(x.dtype))
        if o["num_classes"] > 0:
            if labels is None:
                labels = torch.full((x.shape[0],), o["num_classes"])
            emb = emb + self.class_embed(labels.long())
        emb_silu = F.silu(emb)
        h = self.conv_in(x)
        skips = [h]
        for s in self.down:
            if s.res is not None:
                h = s.res(h, emb_silu)
            if s.attn is not None:
                h = s.attn(h)
            if s.downsample is not None:
                h = s.downsample(h)
            skips.append(h)
        h = self.mid.res_2(self.mid.attn(self.mid.res_1(h, emb_silu)), emb_silu)
        for s in self.up:
            h = s.res(torch.cat([h, skips.pop()], dim=1), emb_silu)
            if s.attn is not None:
                h = s.attn(h)
            if s.upsample is not None:
                h = s.upsample(F.interpolate(h, size=skips[-1].shape[-2:], mode="nearest"))
        return self.conv_out(F.silu(self.out_norm(h)))


class TemporalAttention(nn.Module):
    """difflab's temporal_attention (plugins/unet/temporal_attention.cpp): each position attends over
    the frames, with a relative position bias table indexed by the clipped distance key - query."""

    def __init__(self, channels, heads, groups, max_frames):
        super().__init__()
        self.heads, self.max_frames = heads, max_frames
        self.norm = nn.GroupNorm(groups, channels)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.Linear(channels, channels)
        self.relative_bias = nn.Embedding(2 * max_frames - 1, heads)

    def position_bias(self, frames):
        """[heads, frames (queries), frames (keys)]."""
        reach = self.max_frames - 1
        pos = torch.arange(frames)
        return self.relative_bias((pos[None, :] - pos[:, None]).clamp(-reach, reach) + reach).permute(2, 0, 1)

    def forward(self, x, frames):
        nf, c, h, w = x.shape
        n, b, d = nf // frames, nf // frames * h * w, c // self.heads
        t = self.norm(x).reshape(n, frames, c, h, w).permute(0, 3, 4, 1, 2).reshape(b, frames, c)
        q, k, v = (z.view(b, frames, self.heads, d).transpose(1, 2) for z in (self.to_q(t), self.to_k(t), self.to_v(t)))
        p = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d) + self.position_bias(frames), dim=-1)
        a = (p @ v).transpose(1, 2).reshape(b, frames, c)
        return x + self.to_out(a).reshape(n, h, w, frames, c).permute(0, 3, 4, 1, 2).reshape(nf, c, h, w)


class UNet3D(UNet):
    """difflab's unet3d (plugins/unet/unet3d.cpp): the UNet on frames folded into the batch, with a
    temporal attention block after each residual block (and its attention) at the listed sizes
    (all when none is) and in the middle, and a per-frame embedding of the clean mask."""

    def __init__(self, options):
        o = dict(UNET3D_DEFAULTS, **options)
        super().__init__(o)
        ch, groups = o["channels"], o["groups"]
        sizes = level_sizes(o["image_size"], len(o["channel_mult"]))
        temporal_sizes = o["temporal_attention_resolutions"] or sizes

        def temporal(c):
            heads = c // o["head_channels"] if o["head_channels"] > 0 else o["num_heads"]
            return TemporalAttention(c, heads, groups, o["max_frames"])

        self.frame_embed = nn.Embedding(2, 4 * ch)
        for s in list(self.down) + list(self.up):
            s.temporal = None
            if s.res is not None and sizes[s.level] in temporal_sizes:
                s.temporal = temporal(s.res.out_norm.num_channels)
        self.mid.temporal = temporal(self.mid.res_1.out_norm.num_channels)

    @staticmethod
    def block(s, h, emb_silu, frames):
        if s.downsample is not None:
            return s.downsample(h)
        h = s.res(h, emb_silu)
        if s.attn is not None:
            h = s.attn(h)
        return h if s.temporal is None else s.temporal(h, frames)

    def forward(self, x, noise, labels=None, clean_mask=None):
        # labels: unet3d has no class conditioning.
        o = self.o
        n, _, frames, height, width = x.shape
        emb = self.time_embed(timestep_embedding(noise, o["channels"], o["time_scale"]).to(x.dtype))
        given = torch.zeros(n, frames, dtype=torch.long) if clean_mask is None else clean_mask.reshape(n, frames).long()
        emb_silu = F.silu(emb[:, None, :] + self.frame_embed(given)).reshape(n * frames, -1)
        h = self.conv_in(x.permute(0, 2, 1, 3, 4).reshape(n * frames, -1, height, width))
        skips = [h]
        for s in self.down:
            h = self.block(s, h, emb_silu, frames)
            skips.append(h)
        h = self.mid.temporal(self.mid.attn(self.mid.res_1(h, emb_silu)), frames)
        h = self.mid.res_2(h, emb_silu)
        for s in self.up:
            h = self.block(s, torch.cat([h, skips.pop()], dim=1), emb_silu, frames)
            if s.upsample is not None:
                h = s.upsample(F.interpolate(h, size=skips[-1].shape[-2:], mode="nearest"))
        out = self.conv_out(F.silu(self.out_norm(h)))
        return out.reshape(n, frames, -1, height, width).permute(0, 2, 1, 3, 4)


class MLP(nn.Module):
    """difflab's mlp (plugins/mlp/mlp.cpp): h = in_proj(x); h = layer(silu(h + emb)) per layer; out_proj(silu(h))."""

    def __init__(self, options):
        super().__init__()
        o = dict(MLP_DEFAULTS, **options)
        self.o = o
        hidden = o["hidden"]
        self.time_embed = TimeEmbed(hidden, hidden)
        if o["num_classes"] > 0:
            self.class_embed = nn.Embedding(o["num_classes"] + 1, hidden)
        self.in_proj = nn.Linear(o["in_dim"], hidden)
        self.layers = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(o["layers"])])
        self.out_proj = nn.Linear(hidden, o["in_dim"])

    def forward(self, x, noise, labels=None):
        o = self.o
        emb = self.time_embed(timestep_embedding(noise, o["hidden"], o["time_scale"]).to(x.dtype))
        if o["num_classes"] > 0:
            if labels is None:
                labels = torch.full((x.shape[0],), o["num_classes"])
            emb = emb + self.class_embed(labels.long())
        h = self.in_proj(x)
        for layer in self.layers:
            h = layer(F.silu(h + emb))
        return self.out_proj(F.silu(h))


class PlainResBlock(ResBlock):
    """A ResBlock that, with emb 0, has no embedding projection (a classifier without time)."""

    def __init__(self, cin, cout, emb, groups, scale_shift, dropout):
        super().__init__(cin, cout, max(emb, 1), groups, scale_shift, dropout)
        if emb == 0:
            self.emb_proj = None

    def forward(self, x, emb_silu):
        if self.emb_proj is not None:
            return super().forward(x, emb_silu)
        h = self.in_conv(F.silu(self.in_norm(x)))
        h = self.out_conv(self.dropout(F.silu(self.out_norm(h))))
        return (x if self.skip is None else self.skip(x)) + h


class Classifier(nn.Module):
    """difflab's classifier (plugins/unet/classifier.cpp): guided-diffusion's EncoderUNetModel with
    the "adaptive" head (norm, SiLU, global average pool, linear to num_classes)."""

    def __init__(self, options):
        super().__init__()
        o = dict(CLASSIFIER_DEFAULTS, **options)
        self.o = o
        ch, groups = o["channels"], o["groups"]
        emb = 4 * ch if o["time_conditioned"] else 0
        sizes = level_sizes(o["image_size"], len(o["channel_mult"]))

        def heads(c):
            return c // o["head_channels"] if o["head_channels"] > 0 else o["num_heads"]

        def res(cin, cout):
            return PlainResBlock(cin, cout, emb, groups, o["scale_shift_norm"], o["dropout"])

        if o["time_conditioned"]:
            self.time_embed = TimeEmbed(ch, emb)
        self.conv_in = nn.Conv2d(o["in_channels"], ch, 3, padding=1)
        self.down = nn.ModuleList()
        cur = ch
        for level, mult in enumerate(o["channel_mult"]):
            for _ in range(o["num_res_blocks"]):
                s = Stage()
                s.res = res(cur, ch * mult)
                cur = ch * mult
                if sizes[level] in o["attention_resolutions"]:
                    s.attn = AttentionBlock(cur, heads(cur), groups)
                self.down.append(s)
            if level + 1 < len(o["channel_mult"]):
                s = Stage()
                s.downsample = nn.Conv2d(cur, cur, 3, stride=2, padding=1)
                self.down.append(s)
        self.mid = Container()
        self.mid.res_1 = res(cur, cur)
        self.mid.attn = AttentionBlock(cur, heads(cur), groups)
        self.mid.res_2 = res(cur, cur)
        self.out_norm = nn.GroupNorm(groups, cur)
        self.head = nn.Linear(cur, o["num_classes"])

    def features(self, x, noise=None):
        o = self.o
        emb_silu = None
        if o["time_conditioned"]:
            emb_silu = F.silu(self.time_embed(timestep_embedding(noise, o["channels"], o["time_scale"]).to(x.dtype)))
        h = self.conv_in(x)
        for s in self.down:
            if s.res is not None:
                h = s.res(h, emb_silu)
            if s.attn is not None:
                h = s.attn(h)
            if s.downsample is not None:
                h = s.downsample(h)
        h = self.mid.res_2(self.mid.attn(self.mid.res_1(h, emb_silu)), emb_silu)
        return F.silu(self.out_norm(h)).mean(dim=(2, 3))

    def forward(self, x, noise=None, labels=None):
        if labels is not None:
            raise ValueError("a classifier takes no labels")
        return self.head(self.features(x, noise))


def build(network, options):
    return {"unet": UNet, "unet3d": UNet3D, "classifier": Classifier, "mlp": MLP}[network](options)


# --- safetensors (by hand) ------------------------------------------------------------------


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    data = bytearray()
    for name, value in tensors.items():
        values = value.detach().to(torch.float32).contiguous().flatten().tolist()
        blob = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data area starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))


def read_safetensors(path):
    """{name: float64 tensor}, metadata; F32 only (what difflab writes for f32 models)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError("%s: %s is %s; only F32 is read here" % (path, name, entry["dtype"]))
        begin, end = entry["data_offsets"]
        values = struct.unpack("<%df" % ((end - begin) // 4), raw[8 + n + begin:8 + n + end])
        tensors[name] = torch.tensor(values, dtype=torch.float64).reshape(entry["shape"])
    return tensors, metadata


# --- fixtures -------------------------------------------------------------------------------


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def randomize(model, seed):
    """Random weights everywhere (the zero-initialized output layers too) and random norm affines."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            z = torch.randn(p.shape, generator=g, dtype=torch.float64)
            if "norm." in name:
                p.copy_(1 + 0.1 * z if name.endswith(".weight") else 0.1 * z)
            else:
                fan_in = p[0].numel() if p.dim() >= 2 else 100
                p.copy_(z / math.sqrt(fan_in))
            p.copy_(f32(p))


def write_one_fixture(name, network, options, x, noise, labels, grad_names, seed, out_dir, clean_mask=None):
    torch.manual_seed(seed)
    model = build(network, options).to(torch.float64)
    randomize(model, seed)
    model.eval()
    x = f32(x).requires_grad_(True)
    out = model(x, noise, labels) if clean_mask is None else model(x, noise, labels, clean_mask)
    g = torch.Generator().manual_seed(seed + 1)
    grad_out = f32(torch.randn(out.shape, generator=g, dtype=torch.float64))
    out.backward(grad_out)
    tensors = {"model/" + k: v for k, v in model.state_dict().items()}
    tensors.update({"x": x.detach(), "noise": noise, "out": out.detach(), "grad_out": grad_out, "grad/x": x.grad})
    if labels is not None:
        tensors["labels"] = labels.to(torch.float64)
    if clean_mask is not None:
        tensors["clean_mask"] = clean_mask.to(torch.float64)
    params = dict(model.named_parameters())
    for k in grad_names:
        tensors["grad/" + k] = params[k].grad
    path = os.path.join(out_dir, name + ".safetensors")
    write_safetensors(path, tensors, {"network": network, "options": json.dumps(options)})
    count = sum(p.numel() for p in model.parameters())
    print("%-36s %8d bytes  %7d parameters" % (name + ".safetensors", os.path.getsize(path), count))


# Narrow (8 channels) to keep the committed files small; --check covers the full-width configs.
FIXTURE_UNET_TINY = {"channels": 8, "channel_mult": [1, 2, 2], "num_res_blocks": 1, "attention_resolutions": [7],
                     "groups": 4, "num_heads": 2}
FIXTURE_UNET_CLASS = {"channels": 8, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [14],
                      "groups": 2, "head_channels": 4, "scale_shift_norm": True, "num_classes": 3,
                      "extra_in_channels": 1, "learned_variance": True}
FIXTURE_CLASSIFIER = {"channels": 16, "channel_mult": [1, 2], "num_res_blocks": 1, "attention_resolutions": [8],
                      "image_size": 16, "groups": 8, "num_heads": 2, "num_classes": 10}
FIXTURE_CLASSIFIER_UNTIMED = {"channels": 8, "channel_mult": [1, 2, 2], "num_res_blocks": 2, "groups": 4,
                              "image_size": 16, "head_channels": 4, "num_classes": 3, "time_conditioned": False}
# A clean mask, extra input channels, spatial attention at the low level, temporal attention at
# every level, and a relative position table shorter than the video (distances clipped).
FIXTURE_UNET3D_TINY = {"in_channels": 1, "extra_in_channels": 1, "channels": 8, "channel_mult": [1, 2],
                       "num_res_blocks": 1, "attention_resolutions": [4], "image_size": 8, "groups": 4,
                       "num_heads": 2, "max_frames": 3}
FIXTURE_MLP = {"in_dim": 2, "hidden": 32, "layers": 3}
FIXTURE_MLP_CLASS = {"in_dim": 3, "hidden": 16, "layers": 2, "time_scale": 1.0, "num_classes": 4}


def write_fixtures(out_dir, only=None):
    """Writes every fixture, or those named in `only`; each is independent of which others are written."""
    written = set()

    def write_fixture(name, *args):
        if only is None or name in only:
            write_one_fixture(name, *args)
            written.add(name)

    g = torch.Generator().manual_seed(1234)
    x = torch.randn((2, 1, 28, 28), generator=g, dtype=torch.float64)
    noise = f32(torch.tensor([0.03, 0.71], dtype=torch.float64))
    write_fixture("unet_tiny", "unet", FIXTURE_UNET_TINY, x, noise, None,
                  ["conv_in.weight", "time_embed.linear_1.weight", "down.0.res.in_norm.weight",
                   "down.4.attn.to_q.weight", "mid.attn.to_out.weight", "up.0.res.skip.weight", "conv_out.bias"],
                  100, out_dir)
    x = torch.randn((2, 2, 28, 28), generator=g, dtype=torch.float64)
    write_fixture("unet_class_scale_shift", "unet", FIXTURE_UNET_CLASS, x, noise,
                  torch.tensor([1.0, 3.0], dtype=torch.float64),  # class 1 and the null class
                  ["conv_in.weight", "class_embed.weight", "down.0.res.emb_proj.weight", "down.2.attn.to_k.weight",
                   "mid.res_1.out_norm.bias", "up.1.upsample.weight", "conv_out.weight"],
                  200, out_dir)
    x = torch.randn((5, 2), generator=g, dtype=torch.float64)
    noise5 = f32(torch.tensor([0.0, 0.2, 0.5, 0.8, 1.0], dtype=torch.float64))
    write_fixture("mlp", "mlp", FIXTURE_MLP, x, noise5, None,
                  ["in_proj.weight", "time_embed.linear_2.bias", "layers.1.weight", "out_proj.weight"], 300, out_dir)
    x = torch.randn((5, 3), generator=g, dtype=torch.float64)
    write_fixture("mlp_class", "mlp", FIXTURE_MLP_CLASS, x, noise5,
                  torch.tensor([0.0, 3.0, 4.0, 2.0, 4.0], dtype=torch.float64),
                  ["class_embed.weight", "layers.0.weight", "out_proj.bias"], 400, out_dir)
    # The classifiers draw from their own generator: the fixtures above keep their bytes.
    gc = torch.Generator().manual_seed(4321)
    x = torch.randn((3, 1, 16, 16), generator=gc, dtype=torch.float64)
    noise3 = f32(torch.tensor([0.05, 0.5, 0.93], dtype=torch.float64))
    write_fixture("classifier", "classifier", FIXTURE_CLASSIFIER, x, noise3, None,
                  ["conv_in.weight", "time_embed.linear_1.weight", "down.0.res.emb_proj.weight",
                   "down.2.res.skip.weight", "down.2.attn.to_q.weight", "mid.attn.to_out.weight",
                   "mid.res_2.out_conv.weight", "out_norm.weight", "head.weight", "head.bias"],
                  500, out_dir)
    x = torch.randn((3, 1, 16, 16), generator=gc, dtype=torch.float64)
    write_fixture("classifier_untimed", "classifier", FIXTURE_CLASSIFIER_UNTIMED, x, noise3, None,
                  ["conv_in.weight", "down.1.res.in_conv.weight", "down.6.res.out_norm.bias", "mid.attn.to_k.weight",
                   "head.weight"],
                  600, out_dir)
    # The video network draws from its own generator too.
    gv = torch.Generator().manual_seed(777)
    x = torch.randn((2, 2, 4, 8, 8), generator=gv, dtype=torch.float64)  # x_t and one condition channel
    clean_mask = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 1]], dtype=torch.float64).reshape(2, 1, 4, 1, 1)
    write_fixture("unet3d_tiny", "unet3d", FIXTURE_UNET3D_TINY, x, noise, None,
                  ["conv_in.weight", "time_embed.linear_1.weight", "frame_embed.weight", "down.0.res.emb_proj.weight",
                   "down.0.temporal.to_q.weight", "down.0.temporal.relative_bias.weight", "down.2.attn.to_k.weight",
                   "down.2.temporal.norm.weight", "mid.temporal.to_v.weight", "mid.temporal.relative_bias.weight",
                   "up.1.upsample.weight", "up.3.temporal.to_out.weight", "conv_out.bias"],
                  700, out_dir, clean_mask)
    missing = sorted(set(only or ()) - written)
    if missing:
        raise SystemExit("no fixture named %s" % ", ".join(missing))


# --- parameter counts -----------------------------------------------------------------------

COUNT_CONFIGS = [
    ("unet", "tiny", {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1, "attention_resolutions": [7]}),
    ("unet", "small", {"channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2,
                       "attention_resolutions": [14, 7]}),
    ("unet", "class_scale_shift_lv", {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1,
                                      "attention_resolutions": [7], "num_classes": 10, "scale_shift_norm": True,
                                      "learned_variance": True, "extra_in_channels": 1}),
    ("unet", "cifar_32", {"in_channels": 3, "channels": 64, "channel_mult": [1, 2, 2, 2], "num_res_blocks": 2,
                          "attention_resolutions": [16], "image_size": 32, "head_channels": 32}),
    ("mlp", "default", {}),
    ("mlp", "class", {"hidden": 128, "layers": 4, "num_classes": 8}),
] + [("unet", "fixture_" + k, v) for k, v in [("tiny", FIXTURE_UNET_TINY), ("class", FIXTURE_UNET_CLASS)]] + [
    ("classifier", "default", {}),
    ("classifier", "untimed", {"time_conditioned": False}),
    ("classifier", "cifar_adagn", {"in_channels": 3, "channels": 64, "channel_mult": [1, 2, 2, 2],
                                   "num_res_blocks": 2, "attention_resolutions": [16, 8], "image_size": 32,
                                   "head_channels": 32, "scale_shift_norm": True}),
    ("classifier", "fixture", FIXTURE_CLASSIFIER),
    ("classifier", "fixture_untimed", FIXTURE_CLASSIFIER_UNTIMED),
    ("unet3d", "default", {}),
    ("unet3d", "video_64", {"channels": 64, "channel_mult": [1, 2, 2, 2], "num_res_blocks": 2, "image_size": 64,
                            "attention_resolutions": [16, 8], "temporal_attention_resolutions": [32, 16, 8],
                            "head_channels": 32, "max_frames": 16}),
    ("unet3d", "fixture_tiny", FIXTURE_UNET3D_TINY),
]


def print_counts():
    for network, name, options in COUNT_CONFIGS:
        model = build(network, options)
        print("%-10s %-22s %9d  %s" % (network, name, sum(p.numel() for p in model.parameters()),
                                      json.dumps(options)))


# --- the cross-check of difflab checkpoints -------------------------------------------------

CHECK_CONFIGS = [
    ("tiny", {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1, "attention_resolutions": [7]}),
    ("class_scale_shift", {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1,
                           "attention_resolutions": [14, 7], "num_classes": 10, "scale_shift_norm": True,
                           "num_heads": 4}),
    ("odd_size_conditions", {"in_channels": 2, "extra_in_channels": 1, "learned_variance": True, "channels": 16,
                             "groups": 8, "channel_mult": [1, 2, 3], "num_res_blocks": 2, "image_size": 30,
                             "attention_resolutions": [8], "head_channels": 8}),
]


def relative_error(actual, expected):
    return ((actual - expected).abs().max() / expected.abs().max().clamp_min(1e-30)).item()


def check(tool, work):
    import yaml
    worst_all = 0.0
    failed = False
    for name, options in CHECK_CONFIGS:
        directory = os.path.join(work, name)
        os.makedirs(directory, exist_ok=True)
        subprocess.run([tool, "dump", json.dumps(options), directory], check=True, stdout=subprocess.DEVNULL)
        weights, _ = read_safetensors(os.path.join(directory, "step_0.safetensors"))
        io, metadata = read_safetensors(os.path.join(directory, "io.safetensors"))
        resolved = yaml.safe_load(metadata["options"])
        model = UNet(resolved).to(torch.float64)
        model.load_state_dict(weights, strict=True)  # exactly difflab's names and shapes
        model.eval()
        x = io["x"].clone().requires_grad_(True)
        out = model(x, io["noise"], io.get("labels"))
        out.backward(io["grad_out"])
        errors = {"out": relative_error(io["out"], out.detach()), "grad/x": relative_error(io["grad/x"], x.grad)}
        # Some gradients vanish in exact arithmetic (a key bias under the softmax, a bias before a
        # one-channel group norm), leaving f32 rounding of sums that cancel: a gradient is measured
        # against at least 1e-2 of the largest one.
        largest = max(p.grad.abs().max().item() for p in model.parameters())
        worst_param, worst = "", 0.0
        for k, p in model.named_parameters():
            scale = max(p.grad.abs().max().item(), 1e-2 * largest)
            e = (io["grad/" + k] - p.grad).abs().max().item() / scale
            if e > worst:
                worst_param, worst = k, e
        errors["grad/<worst parameter>"] = worst
        print("%-20s %8d parameters  out %.2e  grad x %.2e  grad params max %.2e (%s)" %
              (name, sum(p.numel() for p in model.parameters()), errors["out"], errors["grad/x"], worst,
               worst_param))
        worst_all = max(worst_all, *errors.values())
        failed = failed or any(e > TOLERANCE for e in errors.values())
    print("PyTorch %s difflab's checkpoints: worst relative error %.2e (tolerance %.0e)" %
          ("does not reproduce" if failed else "reproduces", worst_all, TOLERANCE))
    return 1 if failed else 0


BENCH_CONFIGS = [
    ("tiny", {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1, "attention_resolutions": [7]}),
    ("small", {"channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2, "attention_resolutions": [14, 7]}),
]


def bench(repeats):
    import time
    for name, options in BENCH_CONFIGS:
        model = UNet(options).to(memory_format=torch.channels_last)
        x = torch.randn(64, 1, 28, 28).contiguous(memory_format=torch.channels_last)
        noise = torch.rand(64)

        def forward():
            with torch.no_grad():
                model(x, noise)

        def step():
            model.zero_grad()
            F.mse_loss(model(x, noise), torch.zeros_like(x)).backward()

        for label, fn, train in [("forward (eval, no grad)", forward, False), ("training step", step, True)]:
            model.train(train)
            times = []
            for r in range(repeats + 2):
                start = time.perf_counter()
                fn()
                if r >= 2:
                    times.append(1000 * (time.perf_counter() - start))
            times.sort()
            print("torch %-6s %-24s best %8.1f ms  median %8.1f ms" % (name, label, times[0], times[len(times) // 2]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=FIXTURE_DIR, help="where fixtures go")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="write only these fixtures (e.g. classifier)")
    parser.add_argument("--counts", action="store_true", help="print parameter counts")
    parser.add_argument("--check", action="store_true", help="cross-check difflab checkpoints")
    parser.add_argument("--bench", action="store_true", help="time PyTorch's forward and training step")
    parser.add_argument("--threads", type=int, default=0, help="threads for --bench (0: all cores)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs for --bench")
    parser.add_argument("--tool", help="difflab_unet_tool (for --check)")
    parser.add_argument("--work", help="work directory (for --check)")
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    if args.check:
        if not args.tool or not args.work:
            parser.error("--check needs --tool and --work")
        return check(args.tool, args.work)
    if args.bench:
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        else:
            torch.set_num_threads(os.cpu_count() or 1)
        bench(args.repeats)
        return 0
    if args.counts:
        print_counts()
        return 0
    write_fixtures(args.out, set(args.only) if args.only else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
