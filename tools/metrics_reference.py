#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes tests/fixtures/skimage/metrics.safetensors: image pairs with skimage's PSNR and SSIM.
#
# The psnr and ssim metrics (plugins/metrics/image_quality_metrics.h) are checked against
# scikit-image (Debian python3-skimage: tools/install-packages python3-skimage) on a few
# deterministic pairs in [-1, 1]: a smooth pattern plus noise as the reference, and as samples a
# blurred copy, a brightness-shifted copy (clipped to [-1, 1]) and a copy with more noise. Two
# groups: "gray" [3, 1, 28, 28] and "color" [2, 3, 32, 32]. skimage runs in float64 on the
# stored float32 values, with the settings of Wang et al. 2004 (gaussian_weights=True,
# sigma=1.5, use_sample_covariance=False, data_range=2). The file holds, per group,
# <group>/samples and <group>/reference (F32, NCHW) and the per-image <group>/psnr and
# <group>/ssim (F64), written by hand in the safetensors layout (8-byte little-endian header
# length, JSON header, raw little-endian data) since Debian has no python3-safetensors.
# usage: /usr/bin/python3 tools/metrics_reference.py [OUTPUT]
import json
import os
import struct
import sys

import numpy as np
import skimage
from scipy.ndimage import gaussian_filter
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

DATA_RANGE = 2.0


def pattern(rng, n, c, h, w):
    """Smooth sinusoids with a random phase per image and channel, plus noise, in [-1, 1]."""
    y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = np.empty((n, c, h, w))
    for i in range(n):
        for k in range(c):
            phase = rng.uniform(0, 2 * np.pi, size=2)
            smooth = 0.6 * np.sin(2 * np.pi * x / w * (1 + k) + phase[0]) * np.cos(2 * np.pi * y / h * 2 + phase[1])
            out[i, k] = smooth + 0.15 * rng.standard_normal((h, w))
    return np.clip(out, -1, 1).astype(np.float32)


def degraded(rng, reference):
    """Row i: a blurred copy, a brightness-shifted copy, a noisier copy (cycling)."""
    out = np.empty_like(reference)
    for i, image in enumerate(reference.astype(np.float64)):
        kind = i % 3
        if kind == 0:
            out[i] = gaussian_filter(image, sigma=(0, 1.0, 1.0))
        elif kind == 1:
            out[i] = np.clip(image + 0.2, -1, 1)
        else:
            out[i] = np.clip(image + 0.3 * rng.standard_normal(image.shape), -1, 1)
    return out.astype(np.float32)


def reference_values(samples, reference):
    psnr, ssim = [], []
    for s, r in zip(samples.astype(np.float64), reference.astype(np.float64)):
        psnr.append(peak_signal_noise_ratio(r, s, data_range=DATA_RANGE))
        ssim.append(structural_similarity(r, s, channel_axis=0, data_range=DATA_RANGE, gaussian_weights=True,
                                          sigma=1.5, use_sample_covariance=False, K1=0.01, K2=0.03))
    return np.array(psnr), np.array(ssim)


def save(tensors, metadata, path):
    header, offset, data = {"__metadata__": metadata}, 0, b""
    for name, array in tensors.items():
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}[array.dtype]
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests/fixtures/skimage/metrics.safetensors")
    rng = np.random.default_rng(20240601)
    tensors = {}
    for group, shape in (("gray", (3, 1, 28, 28)), ("color", (2, 3, 32, 32))):
        reference = pattern(rng, *shape)
        samples = degraded(rng, reference)
        psnr, ssim = reference_values(samples, reference)
        tensors[f"{group}/samples"] = samples
        tensors[f"{group}/reference"] = reference
        tensors[f"{group}/psnr"] = psnr
        tensors[f"{group}/ssim"] = ssim
        print(f"{group}: psnr {np.round(psnr, 6).tolist()}, ssim {np.round(ssim, 6).tolist()}")
    metadata = {"generator": "tools/metrics_reference.py", "skimage": skimage.__version__, "numpy": np.__version__,
                "data_range": "2.0"}
    save(tensors, metadata, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
