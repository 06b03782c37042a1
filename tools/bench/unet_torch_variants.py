#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Times difflab's U-Net beside PyTorch's twin in its best CPU variants and prints one table.
"""difflab's U-Net beside PyTorch at its best: training step and sampling throughput.

    /usr/bin/python3 tools/bench/unet_torch_variants.py --tool BUILD/bin/difflab_unet_tool
        [--threads N] [--repeats R] [--only tiny|small] [--markdown]

tools/bench/unet is the one command (it installs PyTorch and OpenBLAS, builds the tool and
points PyTorch's BLAS at OpenBLAS). Without --tool only the PyTorch variants are timed.

The network is the twin `UNet` of tools/bench/unet_reference.py (difflab's unet module for
module), input 1x28x28. Timed on both sides, best and median of R runs after 2 warm-ups:

- sampling: one forward in eval mode without autograd (difflab: no_grad_guard; PyTorch:
  inference_mode), batch 64 and 256, reported as images per second per network evaluation
  (batch / time of one forward);
- training step: zero_grad + forward + MSE loss against zeros + backward, batch 64. No
  optimizer update on either side (difflab_unet_tool bench has none); PyTorch's Adam step
  is printed on its own below the table.

PyTorch variants: eager NCHW fp32, eager channels-last fp32, TorchScript frozen fp32
(channels-last input; trace, freeze, optimize_for_inference; sampling only) and bf16 autocast
(NCHW: torch 1.13's channels-last group norm is too slow), the twin's nn.GroupNorm computed
in fp32 and cast back as improved-diffusion's GroupNorm32 does. The table compares difflab
(fp32) with the fastest fp32 variant of each metric and with bf16. A variant more than 3x
slower than the fastest so far, twice, is timed no more (marked "2 runs"). A variant that
fails on this torch build is reported as "failed: reason".
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_reference import UNet  # noqa: E402  (the twin, same parameter names as difflab's unet)

# The two configurations (docs/performance.md, "U-Net end to end").
CONFIGS = [
    ("tiny", {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1, "attention_resolutions": [7]}),
    ("small", {"channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2, "attention_resolutions": [14, 7]}),
]
IMAGE = (1, 28, 28)
TRAIN_BATCH = 64
SAMPLE_BATCHES = (64, 256)
WARMUPS = 2  # as difflab_unet_tool bench: the first calls create primitives (and TorchScript's profiling runs)
TARGETS = {"sampling": 1.3, "training": 1.0}  # difflab / PyTorch's best fp32 variant, at least

# name: (memory format, TorchScript, bf16). Timed in this order, so that the slow channels-last
# eager variant (PyTorch 1.13's channels-last group norm takes 9-29x its NCHW one) finds a
# reference to be cut short against; tables list them in this order too.
VARIANT_SETUP = {
    "eager NCHW": ("nchw", False, False),
    "TorchScript frozen (channels-last)": ("channels_last", True, False),
    "bf16 autocast (NCHW)": ("nchw", False, True),
    "eager channels-last": ("channels_last", False, False),
}
VARIANTS = list(VARIANT_SETUP)
FP32_VARIANTS = [v for v in VARIANTS if not VARIANT_SETUP[v][2]]
BF16_VARIANT = "bf16 autocast (NCHW)"
SLOW = 3.0  # a variant this much slower than the fastest so far on a metric is timed twice only


class Timing:
    """Best and median of the timed runs, in seconds."""

    def __init__(self, seconds):
        self.best = min(seconds)
        self.median = statistics.median(seconds)
        self.cut_short = False  # timed twice only: far behind the fastest PyTorch variant


def time_runs(fn, repeats, reference=None):
    """Times fn after the warm-ups. With a reference (seconds, the fastest PyTorch variant so
    far), a last warm-up and a first timed run both slower than SLOW x reference end it there
    (best of those two): enough to place a variant that is far behind, and minutes saved on
    the small configuration; two, so that one call slowed by another process does not."""

    def timed():
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    for _ in range(WARMUPS - 1):
        fn()
    last_warmup = timed()  # timed to see whether the variant is far behind
    seconds = []
    if reference is not None and last_warmup > SLOW * reference:
        seconds.append(timed())
        if seconds[0] > SLOW * reference:
            t = Timing([last_warmup] + seconds)
            t.cut_short = True
            return t
    while len(seconds) < repeats:
        seconds.append(timed())
    return Timing(seconds)


# --- difflab --------------------------------------------------------------------------------


def parse_tool_line(line):
    """'forward (eval, no grad):        best    468.3 ms  median    468.3 ms' -> Timing in s."""
    words = line.split()
    best = float(words[words.index("best") + 1])
    median = float(words[words.index("median") + 1])
    t = Timing([best * 1e-3])
    t.median = median * 1e-3
    return t


def difflab_times(tool, options, batch, repeats, threads):
    """difflab_unet_tool bench: (forward, training step) Timings at this batch."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    command = [tool, "bench", json.dumps(options), str(batch), str(IMAGE[-1]), str(repeats)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    forward = step = None
    for line in out.splitlines():
        if line.startswith("forward"):
            forward = parse_tool_line(line)
        elif line.startswith("training step"):
            step = parse_tool_line(line)
    if forward is None or step is None:
        raise RuntimeError("unexpected output of %s:\n%s" % (" ".join(command), out))
    return forward, step


# --- PyTorch --------------------------------------------------------------------------------


class GroupNorm32(nn.GroupNorm):
    """improved-diffusion's GroupNorm32: normalizes in fp32 and casts back to the input's dtype."""

    def forward(self, x):
        with torch.autocast("cpu", enabled=False):
            return super().forward(x.float()).to(x.dtype)


def group_norm_in_fp32(model):
    """Turns the twin's nn.GroupNorm modules into GroupNorm32 (same parameters and names)."""
    count = 0
    for m in model.modules():
        if type(m) is nn.GroupNorm:
            m.__class__ = GroupNorm32
            count += 1
    if count == 0:
        raise RuntimeError("the twin has no nn.GroupNorm to compute in fp32 (unet_reference.py changed?)")
    return model


def inputs(batch, channels_last):
    x = torch.randn(batch, *IMAGE)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, torch.rand(batch)


def short(error):
    text = str(error).strip().splitlines()
    return "%s: %s" % (type(error).__name__, text[0] if text else "")[:160]


class TorchVariant:
    """One way of running the twin: builds its model and times sampling and training."""

    def __init__(self, name, options):
        self.name = name
        layout, self.script, self.bf16 = VARIANT_SETUP[name]
        self.channels_last = layout == "channels_last"
        torch.manual_seed(0)
        self.model = UNet(options)
        if self.bf16:
            group_norm_in_fp32(self.model)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)

    def autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    def sampling(self, batch, repeats, reference):
        x, noise = inputs(batch, self.channels_last)
        self.model.eval()
        if self.script:
            with torch.no_grad(), warnings.catch_warnings():
                # Traced per batch size, so that no shape is baked in wrongly; the warning is
                # about the attention scale sqrt(head channels), a constant indeed.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                traced = torch.jit.trace(self.model, (x, noise), check_trace=False)
                frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
            net = frozen
        else:
            net = self.model

        def forward():
            with torch.inference_mode(), self.autocast():
                net(x, noise)

        return time_runs(forward, repeats, reference)

    def training(self, repeats, reference):
        if self.script:
            return None  # frozen modules are inference only
        x, noise = inputs(TRAIN_BATCH, self.channels_last)
        target = torch.zeros_like(x)
        self.model.train()

        def step():
            self.model.zero_grad(set_to_none=True)
            with self.autocast():
                out = self.model(x, noise)
            F.mse_loss(out.float(), target).backward()

        return time_runs(step, repeats, reference)


def adam_step_time(options, repeats):
    """PyTorch's Adam update of the twin's parameters (not part of the training step timed above)."""
    model = UNet(options)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    return time_runs(optimizer.step, repeats), sum(p.numel() for p in model.parameters())


# --- the run --------------------------------------------------------------------------------


def forward_flops(options):
    """Floating-point operations of one image's forward pass in its convolutions, linear layers
    and attention products (2 per multiply-add; normalizations, activations and resampling
    are left out), counted with hooks on the twin."""
    model = UNet(options)
    total = [0]

    def conv(module, _, out):
        kh, kw = module.kernel_size
        total[0] += 2 * module.in_channels // module.groups * kh * kw * out[0].numel()

    def linear(module, _, out):
        total[0] += 2 * module.in_features * out[0].numel()

    def attention(_, inputs, __):
        c, h, w = inputs[0].shape[1:]
        total[0] += 2 * 2 * (h * w) ** 2 * c  # Q K^T and (softmax) V over all heads

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(conv)
        elif isinstance(module, nn.Linear):
            module.register_forward_hook(linear)
        elif type(module).__name__ == "AttentionBlock":
            module.register_forward_hook(attention)
    with torch.inference_mode():
        model(torch.zeros(1, *IMAGE), torch.zeros(1))
    return total[0]


def fastest(result, metric):
    """The best PyTorch time so far on a metric (None before any)."""
    times = [r[metric].best for v, r in result.items() if v in VARIANTS and isinstance(r.get(metric), Timing)]
    return min(times) if times else None


def measure(name, options, args, log):
    """{'difflab': {metric: Timing}, variant: {metric: Timing or error str}}; metrics 'train',
    'sample64', 'sample256'."""
    result = {}
    if args.tool:
        d = {}
        for batch in SAMPLE_BATCHES:
            log("%s: difflab batch %d" % (name, batch))
            forward, step = difflab_times(args.tool, options, batch, args.repeats, args.threads)
            d["sample%d" % batch] = forward
            if batch == TRAIN_BATCH:
                d["train"] = step
        result["difflab"] = d
    for variant in VARIANTS:
        log("%s: PyTorch %s" % (name, variant))
        v = {}
        try:
            runner = TorchVariant(variant, options)
        except Exception as e:  # noqa: BLE001 (a variant that fails is reported, not fatal)
            result[variant] = {k: "failed: " + short(e) for k in ("train", "sample64", "sample256")}
            continue
        for batch in SAMPLE_BATCHES:
            try:
                v["sample%d" % batch] = runner.sampling(batch, args.repeats, fastest(result, "sample%d" % batch))
            except Exception as e:  # noqa: BLE001
                v["sample%d" % batch] = "failed: " + short(e)
        try:
            v["train"] = runner.training(args.repeats, fastest(result, "train"))
        except Exception as e:  # noqa: BLE001
            v["train"] = "failed: " + short(e)
        del runner
        result[variant] = v
    log("%s: PyTorch Adam step" % name)
    result["adam"] = adam_step_time(options, args.repeats)
    return result


METRICS = [("train", "training step b64 (s/step)"), ("sample64", "sampling b64 (img/s)"),
           ("sample256", "sampling b256 (img/s)")]


def fmt_value(metric, t, median=False):
    """Seconds per step for training, images per second per network evaluation for sampling."""
    if metric == "train":
        return "%.2f" % (t.median if median else t.best)
    return "%.1f" % (int(metric[len("sample"):]) / (t.median if median else t.best))


def speedup(ours, theirs):
    """> 1: difflab faster (time ratio, the same for images per second)."""
    return theirs.best / ours.best


def best_fp32(result, metric):
    timed = [(v, result[v][metric]) for v in FP32_VARIANTS if isinstance(result[v].get(metric), Timing)]
    if not timed:
        return None, None
    return min(timed, key=lambda vt: vt[1].best)


def batch_of(metric):
    return TRAIN_BATCH if metric == "train" else int(metric[len("sample"):])


def gflops(metric, t, flops):
    """The rate of a timing in GFLOP/s: a training step is counted as 3 forwards (the forward,
    and a backward that computes the gradients of the inputs and of the weights, each about
    one forward's products)."""
    per_image = 3 * flops if metric == "train" else flops
    return per_image * batch_of(metric) / t.best / 1e9


def fmt_rate(metric, t, flops, peak):
    """'181 (78%)': GFLOP/s and its share of the machine's peak (without a peak: GFLOP/s)."""
    rate = gflops(metric, t, flops)
    return "%.0f (%.0f%%)" % (rate, 100 * rate / peak) if peak else "%.0f" % rate


def rows_for(result, flops, peaks):
    """Table rows: metric | difflab | GFLOP/s | PyTorch best fp32 (variant) | ratio | GFLOP/s |
    PyTorch bf16 | ratio | GFLOP/s; the shares are of the fp32 peak, bf16's of the bf16 peak."""
    rows = []
    ours = result.get("difflab", {})
    fp32_peak, bf16_peak = peaks
    for metric, label in METRICS:
        d = ours.get(metric)
        variant, best = best_fp32(result, metric)
        bf16 = result[BF16_VARIANT].get(metric)
        row = [label, fmt_value(metric, d) if d else "-", fmt_rate(metric, d, flops, fp32_peak) if d else "-"]
        if best is None:
            row += ["failed (every fp32 variant)", "-", "-"]
        else:
            row += ["%s (%s)" % (fmt_value(metric, best), variant),
                    "%.2fx" % speedup(d, best) if d else "-", fmt_rate(metric, best, flops, fp32_peak)]
        if isinstance(bf16, Timing):
            row += [fmt_value(metric, bf16), "%.2fx" % speedup(d, bf16) if d else "-",
                    fmt_rate(metric, bf16, flops, bf16_peak)]
        else:
            row += [bf16 or "-", "-", "-"]
        rows.append(row)
    return rows


def variant_rows(result):
    """Every PyTorch variant's own numbers: best (median)."""
    rows = []
    for variant in VARIANTS:
        row = [variant]
        for metric, _ in METRICS:
            t = result[variant].get(metric)
            if isinstance(t, Timing) and t.cut_short:
                row.append("%s (2 runs: >%.0fx the fastest)" % (fmt_value(metric, t), SLOW))
            elif isinstance(t, Timing):
                row.append("%s (%s)" % (fmt_value(metric, t), fmt_value(metric, t, median=True)))
            elif t is None:
                row.append("n/a (inference only)")
            else:
                row.append(t)
        rows.append(row)
    if "difflab" in result:
        d = result["difflab"]
        rows.insert(0, ["difflab"] + ["%s (%s)" % (fmt_value(m, d[m]), fmt_value(m, d[m], median=True))
                                      for m, _ in METRICS])
    return rows


def target_lines(name, result):
    lines = []
    if "difflab" not in result:
        return lines
    for metric, kind, label in [("sample64", "sampling", "sampling b64"), ("sample256", "sampling", "sampling b256"),
                                ("train", "training", "training b64")]:
        variant, best = best_fp32(result, metric)
        target = TARGETS[kind]
        if best is None:
            lines.append("%s %s: no PyTorch fp32 variant ran (target %.1fx)" % (name, label, target))
            continue
        r = speedup(result["difflab"][metric], best)
        shown = "%.3f" % r if abs(r - target) < 0.005 else "%.2f" % r  # 1.298x must not read 1.30x NOT met
        lines.append("%s %s: difflab/PyTorch-best-fp32 = %sx (target %.1fx) %s" %
                     (name, label, shown, target, "met" if r >= target else "NOT met"))
    return lines


def print_table(header, rows, markdown, right_from=1):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i < right_from else "---:" for i in range(len(header))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(c.ljust(w) if i < right_from else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def loaded_blas():
    """The BLAS library PyTorch has mapped (after a matrix multiply), from /proc/self/maps."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(paths)) or "none mapped"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", help="difflab_unet_tool (without it: PyTorch only)")
    parser.add_argument("--threads", type=int, default=0, help="threads on both sides (0: all cores)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after %d warm-ups" % WARMUPS)
    parser.add_argument("--only", choices=[c for c, _ in CONFIGS], help="one configuration")
    parser.add_argument("--markdown", action="store_true", help="print the tables as docs/performance.md has them")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--peak-fp32", type=float, default=0.0,
                        help="the machine's fp32 peak in GFLOP/s at --threads (tools/bench/peak_flops)")
    parser.add_argument("--peak-bf16", type=float, default=0.0, help="the same for bf16 dot products")
    args = parser.parse_args()
    args.threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(args.threads)

    def log(message):
        if not args.quiet:
            print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)

    started, load_before = time.perf_counter(), os.getloadavg()[0]
    results = [(name, options, measure(name, options, args, log))
               for name, options in CONFIGS if not args.only or name == args.only]

    print("threads: %d on both sides (OMP_WAIT_POLICY %s); best of %d after %d warm-ups; PyTorch %s, BLAS: %s; "
          "load average %.1f at the start, %.1f at the end (%.0f s)" %
          (args.threads, os.environ.get("OMP_WAIT_POLICY", "unset"), args.repeats, WARMUPS, torch.__version__,
           loaded_blas(), load_before, os.getloadavg()[0], time.perf_counter() - started))
    print("training step = zero_grad + forward + MSE loss + backward, no optimizer update (both sides); "
          "sampling = batch / one eval forward without autograd; ratio > 1: difflab faster")
    if args.peak_fp32:
        print("peak (tools/bench/peak_flops, %d threads): fp32 %.1f GFLOP/s, bf16 %s" %
              (args.threads, args.peak_fp32, "%.1f GFLOP/s" % args.peak_bf16 if args.peak_bf16 else "none"))
    print("GFLOP/s: the convolutions', linear layers' and attention products' operations of each forward (a "
          "training step counted as 3 forwards) over the best time; (%): of the fp32 peak, bf16 of the bf16 peak")
    for name, options, result in results:
        flops = forward_flops(options)
        print()
        print(("**%s** `%s`, %.3f GFLOP per image forward" if args.markdown else "%s: %s, %.3f GFLOP per image forward")
              % (name, json.dumps(options), flops / 1e9))
        print()
        print_table(["metric", "difflab", "GFLOP/s", "PyTorch best fp32 (variant)", "ratio", "GFLOP/s",
                     "PyTorch bf16 autocast", "ratio", "GFLOP/s"],
                    rows_for(result, flops, (args.peak_fp32, args.peak_bf16 or None)), args.markdown)
        print()
        print_table(["best (median)", "training step b64 (s/step)", "sampling b64 (img/s)", "sampling b256 (img/s)"],
                    variant_rows(result), args.markdown)
        adam, count = result["adam"]
        print()
        print("PyTorch Adam step over the %d parameters (in neither training step above): %.1f ms (median %.1f)" %
              (count, adam.best * 1e3, adam.median * 1e3))
    print()
    for name, _, result in results:
        for line in target_lines(name, result):
            print(("- " if args.markdown else "") + line)
    log("done in %.0f s" % (time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
