#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Runs ops_bench and the same ops in PyTorch in one process tree and prints one table.
"""difflab ops beside PyTorch: conv 3x3, group norm + silu, attention, own loops (docs/performance.md).

    /usr/bin/python3 tools/bench/ops_compare.py --bench build/bin/ops_bench --peak 232.5

tools/bench/ops.sh is the one command (it builds, measures the peak and points PyTorch's BLAS
at OpenBLAS). PyTorch runs each op in its best layout here: channels-last (oneDNN/mkldnn)
convolutions, contiguous and channels-last group norm, bmm attention; the elementwise rows
are the same tensor ops, AdamW with its default (per-tensor) implementation, EMA as lerp_.
"""
import argparse
import math
import os
import subprocess
import time

import torch
import torch.nn.functional as F


CLOCK = time.perf_counter


def best_ms(fn, seconds):
    for _ in range(2):
        fn()
    best, total, runs = 1e30, 0.0, 0
    while runs < 3 or total < seconds:
        start = CLOCK()
        fn()
        s = CLOCK() - start
        best, total, runs = min(best, s), total + s, runs + 1
    return best * 1e3


def filled(*shape):
    return torch.rand(*shape) * 2 - 1


def torch_cases(seconds, only):
    rows = {}

    def run(name, fn, gflop, nbytes):
        if only and only not in name:
            return
        rows[name] = (best_ms(fn, seconds), gflop, nbytes)

    for size in (28, 14):
        n, c = 64, 64
        tag = "conv3x3_64_%d" % size
        x = filled(n, c, size, size).to(memory_format=torch.channels_last)
        w = filled(c, c, 3, 3).to(memory_format=torch.channels_last)
        b = filled(c)
        gflop = 2.0 * n * c * c * 9 * size * size * 1e-9
        with torch.no_grad():
            run(tag + "_fwd", lambda: F.conv2d(x, w, b, padding=1), gflop, 0)
            xb, wb, bb = x.to(torch.bfloat16), w.to(torch.bfloat16), b.to(torch.bfloat16)
            run(tag + "_bf16_fwd", lambda: F.conv2d(xb, wb, bb, padding=1), gflop, 0)
            xp, wp = x.contiguous(), w.contiguous()
            run(tag + "_nchw_fwd", lambda: F.conv2d(xp, wp, b, padding=1), gflop, 0)
        xs, ws, bs = (t.clone().requires_grad_(True) for t in (x, w, b))
        g = filled(n, c, size, size).to(memory_format=torch.channels_last)
        run(tag + "_fwd_bwd",
            lambda: torch.autograd.grad(F.conv2d(xs, ws, bs, padding=1), (xs, ws, bs), g), 3 * gflop, 0)

    shape = (64, 64, 28, 28)
    w, b = filled(64), filled(64)
    for cl in (False, True):
        tag = "group_norm_silu_28" + ("_cl" if cl else "")
        x = filled(*shape)
        if cl:
            x = x.to(memory_format=torch.channels_last)
        nbytes = 2.0 * 4 * x.numel()
        with torch.no_grad():
            run(tag + "_fwd", lambda: F.silu(F.group_norm(x, 32, w, b)), 0, nbytes)
        xs, ws, bs = (t.clone().requires_grad_(True) for t in (x, w, b))
        g = filled(*shape)
        run(tag + "_fwd_bwd",
            lambda: torch.autograd.grad(F.silu(F.group_norm(xs, 32, ws, bs)), (xs, ws, bs), g), 0, 2.5 * nbytes)

    def attention(q, k, v, heads):
        bsz, t, d = q.shape
        qh = q.view(bsz, t, heads, d // heads).transpose(1, 2)
        kh = k.view(bsz, t, heads, d // heads).transpose(1, 2)
        vh = v.view(bsz, t, heads, d // heads).transpose(1, 2)
        p = torch.softmax(qh @ kh.transpose(-2, -1) * (1.0 / math.sqrt(d // heads)), dim=-1)
        return (p @ vh).transpose(1, 2).reshape(bsz, t, d)

    for side in (7, 14):
        n, tokens, channels, heads = 64, side * side, 128, 4
        tag = "attention_%dx%d" % (side, side)
        q, k, v = filled(n, tokens, channels), filled(n, tokens, channels), filled(n, tokens, channels)
        gflop = 4.0 * n * tokens * tokens * channels * 1e-9
        with torch.no_grad():
            run(tag + "_fwd", lambda: attention(q, k, v, heads), gflop, 0)
        qs, ks, vs = (t.clone().requires_grad_(True) for t in (q, k, v))
        g = filled(n, tokens, channels)
        run(tag + "_fwd_bwd", lambda: torch.autograd.grad(attention(qs, ks, vs, heads), (qs, ks, vs), g), 3 * gflop, 0)

    shape = (64, 128, 28, 28)
    n = 64 * 128 * 28 * 28
    f32, bf16 = 4.0 * n, 2.0 * n
    x, y, s = filled(*shape), filled(*shape), filled(64, 128, 1, 1)
    x_cl = x.to(memory_format=torch.channels_last)
    xb = x.to(torch.bfloat16)
    with torch.no_grad():
        run("add_64x128x28", lambda: x + y, 0, 3 * f32)
        run("mul_64x128x28", lambda: x * y, 0, 3 * f32)
        run("mul_bcast_64x128x28", lambda: x * s, 0, 2 * f32)
        run("add_bcast_64x128x28_cl", lambda: x_cl + s, 0, 2 * f32)
        run("scale_64x128x28", lambda: x * 0.5, 0, 2 * f32)
        run("silu_64x128x28", lambda: F.silu(x), 0, 2 * f32)
        run("sum_nhw_64x128x28", lambda: x.sum((0, 2, 3)), 0, f32)
        run("sum_nhw_64x128x28_cl", lambda: x_cl.sum((0, 2, 3)), 0, f32)
        run("sum_all_64x128x28", lambda: x.sum(), 0, f32)
        run("to_bf16_64x128x28", lambda: x.to(torch.bfloat16), 0, f32 + bf16)
        run("to_f32_64x128x28", lambda: xb.to(torch.float32), 0, bf16 + f32)
        small_x, small_y = filled(64, 64, 14, 14), filled(64, 64, 14, 14)
        small = 4.0 * small_x.numel()
        run("add_64x64x14", lambda: small_x + small_y, 0, 3 * small)
        run("to_bf16_64x64x14", lambda: small_x.to(torch.bfloat16), 0, 1.5 * small)
        small_xb, small_yb = small_x.to(torch.bfloat16), small_y.to(torch.bfloat16)
        run("add_bf16_64x64x14", lambda: small_xb + small_yb, 0, 1.5 * small)
    params = [filled(1 << 18).requires_grad_(True) for _ in range(40)]
    for p in params:
        p.grad = filled(1 << 18)
    count = 40.0 * (1 << 18)
    adam = torch.optim.AdamW(params, lr=1e-3)
    run("adamw_step_10M", adam.step, 0, 28 * count)
    shadow = [p.detach().clone() for p in params]

    def ema():
        with torch.no_grad():
            for sh, p in zip(shadow, params):
                sh.lerp_(p, 1 - 0.999)

    run("ema_update_10M", ema, 0, 12 * count)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True, help="path of the ops_bench executable")
    parser.add_argument("--peak", type=float, required=True, help="all-core fp32 peak in GFLOP/s (peak_flops)")
    parser.add_argument("--threads", type=int, default=0, help="threads for both (0: all cores)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per case")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time thread CPU time (needs --threads 1): robust on a machine shared with other jobs")
    args = parser.parse_args()

    global CLOCK
    threads = args.threads or os.cpu_count()
    if args.cpu_time:
        if threads != 1:
            parser.error("--cpu-time measures one thread; add --threads 1")
        CLOCK = time.thread_time
    torch.set_num_threads(threads)
    command = [args.bench, "--tsv", "--threads", str(threads), "--seconds", str(args.seconds)]
    if args.cpu_time:
        command.append("--cpu-time")
    if args.only:
        command += ["--only", args.only]
    ours = {}
    for line in subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines():
        name, ms, gflop, nbytes = line.split("\t")
        ours[name] = (float(ms), float(gflop), float(nbytes))
    theirs = torch_cases(args.seconds, args.only)

    print("threads: %d (%s); fp32 peak %.1f GFLOP/s; PyTorch %s, BLAS: %s" %
          (threads, "thread CPU time" if args.cpu_time else "wall time", args.peak, torch.__version__,
           os.environ.get("DIFFLAB_TORCH_BLAS", "as installed")))
    print("| op | difflab ms | difflab GFLOP/s (GB/s) | % of fp32 peak | PyTorch ms | PyTorch GFLOP/s (GB/s) | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (ms, gflop, nbytes) in ours.items():
        if name not in theirs:
            continue
        tms = theirs[name][0]
        if gflop > 0:
            rate, trate = "%.1f" % (gflop / ms * 1e3), "%.1f" % (gflop / tms * 1e3)
            peak = "%.0f%%" % (100 * gflop / ms * 1e3 / args.peak)
        else:
            rate, trate = "(%.1f)" % (nbytes / ms * 1e-6), "(%.1f)" % (nbytes / tms * 1e-6)
            peak = "-"
        print("| %s | %.2f | %s | %s | %.2f | %s | %.2fx |" % (name, ms, rate, peak, tms, trate, tms / ms))


if __name__ == "__main__":
    main()
