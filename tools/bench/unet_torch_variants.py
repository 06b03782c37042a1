#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Times difflab's U-Net (fp32 and bf16) beside PyTorch's twin in its best CPU variants, with peak memory.
"""difflab's U-Net beside PyTorch at its best: training step, sampling throughput, peak memory.

    /usr/bin/python3 tools/bench/unet_torch_variants.py --tool BUILD/bin/difflab_unet_tool
        [--threads N] [--repeats R] [--only tiny|small] [--markdown]

tools/bench/unet is the one command (it installs PyTorch and OpenBLAS, builds the tool and
points PyTorch's BLAS at OpenBLAS). Without --tool only the PyTorch variants are timed.

The network is the twin `UNet` of tools/bench/unet_reference.py (difflab's unet module for
module), input 1x28x28. Timed on both sides, best and median of R runs after 2 warm-ups:

- sampling: one forward in eval mode without autograd (difflab: no_grad_guard; PyTorch:
  inference_mode), batch 64 and 256, reported as images per second per network evaluation
  (batch / time of one forward);
- training step: zero_grad + forward + MSE loss against zeros + backward, batch 64; at batch
  256 once after the 2 warm-ups, for its memory (its time is one run). No optimizer update on
  either side (difflab_unet_tool bench has none); PyTorch's Adam step is printed on its own
  below the tables.

Peak memory: each of those phases (warm-ups and timed runs) is a phase of its own for memory
in its process, on both sides the same way: what earlier phases freed goes back to the kernel
first (difflab: release_storage_cache() and malloc_trim; PyTorch: gc.collect() and
malloc_trim), then "5" written to /proc/self/clear_refs resets the kernel's high-water mark
VmHWM to the resident size, and VmHWM read from /proc/self/status after the phase is its peak.
The peak includes what the process holds at the phase's start (libraries, the model, the
inputs: a few hundred MiB more for PyTorch's libraries), shown beside it in the memory table.

difflab runs in fp32 and in bf16 (difflab_unet_tool bench --precision bf16: convolutions,
matrix products and attention in bf16 under precision_scope, the rest fp32).

PyTorch variants: eager NCHW fp32, eager channels-last fp32, TorchScript frozen fp32
(channels-last input; trace, freeze, optimize_for_inference; sampling only) and bf16 autocast
(NCHW: torch 1.13's channels-last group norm is too slow), the twin's nn.GroupNorm computed
in fp32 and cast back as improved-diffusion's GroupNorm32 does. One table compares difflab
fp32 with the fastest fp32 variant of each metric (the training step at batch 256: the
variant fastest at 64), another difflab bf16 with bf16 autocast; then the targets (TARGETS),
each met or missed by how much. A variant more than 3x slower than the fastest so far, twice,
is timed no more (marked "2 runs"). A variant that fails on this torch build is reported as
"failed: reason".
"""
import argparse
import ctypes
import gc
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
TRAIN_BATCH = 64  # the training step timed R times
MEMORY_TRAIN_BATCH = 256  # the training step measured for its memory, timed once (R runs would take minutes)
SAMPLE_BATCHES = (64, 256)
WARMUPS = 2  # as difflab_unet_tool bench: the first calls create primitives (and TorchScript's profiling runs)
PRECISIONS = ("fp32", "bf16")
DIFFLAB = {"fp32": "difflab", "bf16": "difflab bf16"}  # result keys of difflab's runs

# The targets. Ratios: difflab's time against PyTorch's best fp32 variant (fp32) or bf16
# autocast (bf16), at least this (training: the timed batch 64). Peak: the small U-Net's forward
# (sampling, both batches) at least this share of the peak of its precision.
TARGETS = {
    ("fp32", "sampling"): 1.5,
    ("fp32", "training"): 1.3,
    ("bf16", "sampling"): 1.3,
    ("bf16", "training"): 1.2,
}
PEAK_TARGETS = {"fp32": 0.80, "bf16": 0.70}
PEAK_TARGET_CONFIGS = ("small",)

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
        self.peak_mib = None  # resident memory (MiB): the phase's high-water mark, None if unmeasured
        self.start_mib = None  # and the resident size at the phase's start


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


def status_mib(field):
    """A field of /proc/self/status ("VmHWM", "VmRSS") in MiB, or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


try:
    LIBC = ctypes.CDLL("libc.so.6")
except OSError:
    LIBC = None


def reset_peak_memory():
    """Starts a phase of its own for memory, as difflab_unet_tool bench does: gc.collect() and
    malloc_trim give what earlier phases freed back to the kernel (PyTorch's CPU allocator
    frees to glibc, which would keep it resident), then the kernel's high-water mark VmHWM is
    reset to the resident size. The resident size now, or None where the reset failed."""
    gc.collect()
    if LIBC is not None:
        LIBC.malloc_trim(0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return status_mib("VmRSS")


def time_phase(fn, repeats, reference=None):
    """time_runs with the phase's peak resident memory (warm-ups included) on the Timing."""
    start = reset_peak_memory()
    t = time_runs(fn, repeats, reference)
    if start is not None:
        t.start_mib, t.peak_mib = start, status_mib("VmHWM")
    return t


# --- difflab --------------------------------------------------------------------------------


def parse_tool_line(line):
    """'forward (eval, no grad):  best  468.3 ms  median  468.3 ms  peak  612.0 MiB  start  98.2 MiB'
    -> Timing in s, with its memory ('peak n/a': none)."""
    words = line.split()
    best = float(words[words.index("best") + 1])
    median = float(words[words.index("median") + 1])
    t = Timing([best * 1e-3])
    t.median = median * 1e-3
    if "peak" in words and words[words.index("peak") + 1] != "n/a":
        t.peak_mib = float(words[words.index("peak") + 1])
        t.start_mib = float(words[words.index("start") + 1])
    return t


def difflab_times(tool, options, batch, repeats, train_repeats, precision, threads):
    """difflab_unet_tool bench: (forward, training step) Timings at this batch and precision."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    command = [tool, "bench", json.dumps(options), str(batch), str(IMAGE[-1]), str(repeats),
               "--precision", precision, "--train-repeats", str(train_repeats)]
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

        return time_phase(forward, repeats, reference)

    def training(self, batch, repeats, reference):
        if self.script:
            return None  # frozen modules are inference only
        x, noise = inputs(batch, self.channels_last)
        target = torch.zeros_like(x)
        self.model.train()

        def step():
            self.model.zero_grad(set_to_none=True)
            with self.autocast():
                out = self.model(x, noise)
            F.mse_loss(out.float(), target).backward()

        return time_phase(step, repeats, reference)


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


TRAIN = "train%d" % TRAIN_BATCH
TRAIN_MEMORY = "train%d" % MEMORY_TRAIN_BATCH
METRICS = [(TRAIN, "training step b%d (s/step)" % TRAIN_BATCH),
           (TRAIN_MEMORY, "training step b%d (s/step, 1 run)" % MEMORY_TRAIN_BATCH)] + \
          [("sample%d" % b, "sampling b%d (img/s)" % b) for b in SAMPLE_BATCHES]


def measure(name, options, args, log):
    """{'difflab': {metric: Timing}, 'difflab bf16': ..., variant: {metric: Timing or error str}};
    metrics those of METRICS (PyTorch's training step at batch 256: the fastest fp32 variant
    at 64 and bf16 autocast only)."""
    result = {}
    if args.tool:
        for precision in PRECISIONS:
            d = {}
            for batch in SAMPLE_BATCHES:
                log("%s: difflab %s batch %d" % (name, precision, batch))
                # One call per batch times the forward and the training step at that batch.
                train_repeats = args.repeats if batch == TRAIN_BATCH else 1 if batch == MEMORY_TRAIN_BATCH else 0
                forward, step = difflab_times(args.tool, options, batch, args.repeats, train_repeats, precision,
                                              args.threads)
                d["sample%d" % batch] = forward
                if train_repeats:
                    d["train%d" % batch] = step
            result[DIFFLAB[precision]] = d
    for variant in VARIANTS:
        log("%s: PyTorch %s" % (name, variant))
        v = {}
        try:
            runner = TorchVariant(variant, options)
        except Exception as e:  # noqa: BLE001 (a variant that fails is reported, not fatal)
            result[variant] = {k: "failed: " + short(e) for k, _ in METRICS}
            continue
        for batch in SAMPLE_BATCHES:
            try:
                v["sample%d" % batch] = runner.sampling(batch, args.repeats, fastest(result, "sample%d" % batch))
            except Exception as e:  # noqa: BLE001
                v["sample%d" % batch] = "failed: " + short(e)
        try:
            v[TRAIN] = runner.training(TRAIN_BATCH, args.repeats, fastest(result, TRAIN))
        except Exception as e:  # noqa: BLE001
            v[TRAIN] = "failed: " + short(e)
        del runner
        result[variant] = v
    # The memory-only training step for the two variants the tables compare with: the others
    # would add minutes (eager channels-last takes 4-5 s a step at batch 64 on the small one).
    for variant in (best_fp32(result, TRAIN)[0], BF16_VARIANT):
        if variant is None or not isinstance(result[variant].get(TRAIN), Timing):
            continue
        log("%s: PyTorch %s, training step batch %d" % (name, variant, MEMORY_TRAIN_BATCH))
        try:
            runner = TorchVariant(variant, options)
            result[variant][TRAIN_MEMORY] = runner.training(MEMORY_TRAIN_BATCH, 1, None)
        except Exception as e:  # noqa: BLE001
            result[variant][TRAIN_MEMORY] = "failed: " + short(e)
        runner = None
    log("%s: PyTorch Adam step" % name)
    result["adam"] = adam_step_time(options, args.repeats)
    return result


def fmt_value(metric, t, median=False):
    """Seconds per step for training, images per second per network evaluation for sampling."""
    seconds = t.median if median else t.best
    if metric.startswith("train"):
        return "%.2f" % seconds
    return "%.1f" % (batch_of(metric) / seconds)


def fmt_mib(t):
    return "%.0f" % t.peak_mib if isinstance(t, Timing) and t.peak_mib is not None else "-"


def speedup(ours, theirs):
    """> 1: difflab faster (time ratio, the same for images per second)."""
    return theirs.best / ours.best


def best_fp32(result, metric):
    timed = [(v, result[v][metric]) for v in FP32_VARIANTS if isinstance(result[v].get(metric), Timing)]
    if not timed:
        return None, None
    return min(timed, key=lambda vt: vt[1].best)


def batch_of(metric):
    return int(metric[len("train"):] if metric.startswith("train") else metric[len("sample"):])


def gflops(metric, t, flops):
    """The rate of a timing in GFLOP/s: a training step is counted as 3 forwards (the forward,
    and a backward that computes the gradients of the inputs and of the weights, each about
    one forward's products)."""
    per_image = 3 * flops if metric.startswith("train") else flops
    return per_image * batch_of(metric) / t.best / 1e9


def fmt_rate(metric, t, flops, peak):
    """'181 (78%)': GFLOP/s and its share of the machine's peak (without a peak: GFLOP/s)."""
    rate = gflops(metric, t, flops)
    return "%.0f (%.0f%%)" % (rate, 100 * rate / peak) if peak else "%.0f" % rate


def theirs_for(result, precision, metric):
    """(label, Timing or error str or None): what difflab in this precision is compared with on
    a metric, PyTorch's fastest fp32 variant or bf16 autocast."""
    if precision == "bf16":
        return None, result[BF16_VARIANT].get(metric)
    variant, best = best_fp32(result, metric)
    return variant, best if best is not None else "failed (every fp32 variant)"


def rows_for(result, precision, flops, peak):
    """Table rows: metric | difflab | GFLOP/s (% of the precision's peak) | peak MiB | PyTorch
    (fastest fp32 variant or bf16 autocast) | GFLOP/s | peak MiB | ratio | memory ratio."""
    rows = []
    ours = result.get(DIFFLAB[precision], {})
    for metric, label in METRICS:
        d = ours.get(metric)
        row = [label, fmt_value(metric, d) if d else "-", fmt_rate(metric, d, flops, peak) if d else "-", fmt_mib(d)]
        variant, t = theirs_for(result, precision, metric)
        if isinstance(t, Timing):
            memory_ratio = "%.2fx" % (t.peak_mib / d.peak_mib) if d and d.peak_mib and t.peak_mib else "-"
            row += [fmt_value(metric, t) + (" (%s)" % variant if variant else ""), fmt_rate(metric, t, flops, peak),
                    fmt_mib(t), "%.2fx" % speedup(d, t) if d else "-", memory_ratio]
        else:
            row += [t or "-", "-", "-", "-", "-"]
        rows.append(row)
    return rows


def timed_rows(result):
    """The rows of difflab's runs and of every PyTorch variant that ran, in table order."""
    return [key for key in list(DIFFLAB.values()) + VARIANTS if key in result]


def variant_rows(result):
    """Every run's times: best (median)."""
    rows = []
    for key in timed_rows(result):
        row = [key]
        for metric, _ in METRICS:
            t = result[key].get(metric)
            if isinstance(t, Timing) and t.cut_short:
                row.append("%s (2 runs: >%.0fx the fastest)" % (fmt_value(metric, t), SLOW))
            elif isinstance(t, Timing):
                row.append("%s (%s)" % (fmt_value(metric, t), fmt_value(metric, t, median=True)))
            elif t is None and VARIANT_SETUP.get(key, (None, False))[1]:
                row.append("n/a (inference only)")
            else:
                row.append(t or "-")
        rows.append(row)
    return rows


def memory_rows(result):
    """Every run's peak resident memory, MiB, and the resident size at the phase's start."""
    rows = []
    for key in timed_rows(result):
        row = [key]
        for metric, _ in METRICS:
            t = result[key].get(metric)
            if isinstance(t, Timing) and t.peak_mib is not None:
                row.append("%.0f (%.0f)" % (t.peak_mib, t.start_mib))
            else:
                row.append("-")
        rows.append(row)
    return rows


def ratio_text(value, digits=2):
    return ("%%.%df" % digits) % value


def target_lines(name, result, flops, peaks):
    """Each target of TARGETS and PEAK_TARGETS: met, or missed by how much."""
    lines = []
    for precision in PRECISIONS:
        ours = result.get(DIFFLAB[precision])
        if ours is None:
            continue
        for metric, _ in METRICS:
            if metric == TRAIN_MEMORY:
                continue  # one run, for memory; the training target is the timed batch
            kind = "training" if metric.startswith("train") else "sampling"
            target = TARGETS[(precision, kind)]
            variant, t = theirs_for(result, precision, metric)
            against = "PyTorch best fp32 (%s)" % variant if precision == "fp32" else "PyTorch bf16 autocast"
            label = "%s %s %s b%d" % (name, precision, kind, batch_of(metric))
            if not isinstance(t, Timing) or not isinstance(ours.get(metric), Timing):
                lines.append("%s: no ratio (%s: %s) (target %.1fx)" % (label, against, t, target))
                continue
            r = speedup(ours[metric], t)
            shown = ratio_text(r, 3 if abs(r - target) < 0.005 else 2)  # 1.298x must not read 1.30x NOT met
            if r >= target:
                verdict = "met (by %sx)" % ratio_text(r - target)
            else:
                verdict = "NOT met: short by %sx (difflab needs %.0f%% less time)" % (
                    ratio_text(target - r), 100 * (1 - r / target))
            lines.append("%s: difflab / %s = %sx (target %.1fx) %s" % (label, against, shown, target, verdict))
        peak = peaks[precision]
        if name not in PEAK_TARGET_CONFIGS:
            continue
        for batch in SAMPLE_BATCHES:
            metric = "sample%d" % batch
            label = "%s %s forward b%d" % (name, precision, batch)
            target = PEAK_TARGETS[precision]
            if not peak or not isinstance(ours.get(metric), Timing):
                lines.append("%s: no share of the %s peak (no peak measured) (target %.0f%%)" %
                             (label, precision, 100 * target))
                continue
            share = gflops(metric, ours[metric], flops) / peak
            if share >= target:
                verdict = "met (by %.1f points)" % (100 * (share - target))
            else:
                verdict = "NOT met: short by %.1f points (needs %.2fx the rate)" % (100 * (target - share),
                                                                                  target / share)
            lines.append("%s: %.1f%% of the %s peak (target %.0f%%) %s" % (label, 100 * share, precision,
                                                                          100 * target, verdict))
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
    print("training step = zero_grad + forward + MSE loss + backward, no optimizer update (both sides), at batch "
          "%d once after the warm-ups (for its memory); sampling = batch / one eval forward without autograd; "
          "difflab bf16 = difflab_unet_tool bench --precision bf16; ratio > 1: difflab faster" % MEMORY_TRAIN_BATCH)
    print("peak MiB: the process's peak resident memory over the phase's warm-ups and runs (VmHWM, reset through "
          "/proc/self/clear_refs after release_storage_cache / gc.collect and malloc_trim), including what it held "
          "at the start (memory table: in brackets); memory ratio: PyTorch / difflab, > 1: difflab smaller")
    if args.peak_fp32:
        print("peak (tools/bench/peak_flops, %d threads): fp32 %.1f GFLOP/s, bf16 %s" %
              (args.threads, args.peak_fp32, "%.1f GFLOP/s" % args.peak_bf16 if args.peak_bf16 else "none"))
    print("GFLOP/s: the convolutions', linear layers' and attention products' operations of each forward (a "
          "training step counted as 3 forwards) over the best time; (%): of the peak of the table's precision")
    peaks = {"fp32": args.peak_fp32 or None, "bf16": args.peak_bf16 or None}
    for name, options, result in results:
        flops = forward_flops(options)
        print()
        print(("**%s** `%s`, %.3f GFLOP per image forward" if args.markdown else "%s: %s, %.3f GFLOP per image forward")
              % (name, json.dumps(options), flops / 1e9))
        for precision in PRECISIONS:
            print()
            theirs = "PyTorch best fp32 (variant)" if precision == "fp32" else "PyTorch bf16 autocast"
            print_table(["metric", "difflab " + precision, "GFLOP/s", "peak MiB", theirs, "GFLOP/s", "peak MiB",
                         "ratio", "memory ratio"],
                        rows_for(result, precision, flops, peaks[precision]), args.markdown)
        print()
        print_table(["best (median)"] + [label for _, label in METRICS], variant_rows(result), args.markdown)
        print()
        print_table(["peak MiB (at the start)"] + [label.split(" (")[0] for _, label in METRICS],
                    memory_rows(result), args.markdown)
        adam, count = result["adam"]
        print()
        print("PyTorch Adam step over the %d parameters (in neither training step above): %.1f ms (median %.1f)" %
              (count, adam.best * 1e3, adam.median * 1e3))
    print()
    for name, options, result in results:
        for line in target_lines(name, result, forward_flops(options), peaks):
            print(("- " if args.markdown else "") + line)
    log("done in %.0f s" % (time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
