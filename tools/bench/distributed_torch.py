#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# PyTorch's side of tools/bench/distributed: the U-Net twin trained with DistributedDataParallel.
"""Steps per second of PyTorch training the twin of difflab's U-Net, as difflab trains it.

    /usr/bin/python3 tools/bench/distributed_torch.py --network tiny|small --steps N --batch B
        --ranks R --threads T

R processes (torch.multiprocessing, DistributedDataParallel over gloo when R > 1) with T
threads each share a global batch of B Fashion-MNIST-sized images (1x28x28, random: data
loading is not what is timed); each step is what difflab's training loop does: the DDPM
eps-MSE at a random time, backward (DDP all-reduces the gradient, bucketed and overlapped with
the backward pass), gradient-norm clipping to 1, Adam at 2e-4 and an EMA update of the
weights. Prints the steps per second over the steps after the first 5, as one number.
"""
import argparse
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet_reference import UNet  # noqa: E402  (the twin, same modules as difflab's unet)

NETWORKS = {  # tools/bench/unet's configurations (unet_torch_variants.CONFIGS)
    "tiny": {"channels": 32, "channel_mult": [1, 2, 2], "num_res_blocks": 1, "attention_resolutions": [7]},
    "small": {"channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2, "attention_resolutions": [14, 7]},
}
WARMUP = 5
STEPS_OF_DIFFUSION = 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(rank, args, port, results):
    torch.set_num_threads(args.threads)
    if args.ranks > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.ranks)
    torch.manual_seed(0)
    model = UNet(NETWORKS[args.network])
    ema = [p.detach().clone() for p in model.parameters()]
    trained = torch.nn.parallel.DistributedDataParallel(model) if args.ranks > 1 else model
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    betas = torch.linspace(1e-4, 0.02, STEPS_OF_DIFFUSION)
    alpha_bar = torch.cumprod(1 - betas, 0)
    rows = args.batch // args.ranks + (1 if rank < args.batch % args.ranks else 0)
    generator = torch.Generator().manual_seed(rank)
    x0 = torch.rand(rows, 1, 28, 28, generator=generator) * 2 - 1
    seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        t = torch.randint(0, STEPS_OF_DIFFUSION, (rows,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        a = alpha_bar[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(trained(x_t, t.float()), noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            for average, p in zip(ema, model.parameters()):
                average.mul_(0.9999).add_(p, alpha=1e-4)
        seconds.append(time.perf_counter() - start)
    if args.ranks > 1:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0:
        results.put((args.steps - WARMUP) / sum(seconds[WARMUP:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", choices=sorted(NETWORKS), default="tiny")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.steps <= WARMUP:
        parser.error(f"--steps must be above {WARMUP} (the warm-up)")
    if args.ranks > 1 and not dist.is_available():
        sys.exit("distributed_torch: error: this PyTorch has no torch.distributed")
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    if args.ranks == 1:
        train(0, args, 0, results)
    else:
        mp.spawn(train, args=(args, free_port(), results), nprocs=args.ranks, join=True)
    print(f"{results.get():.4f}")


if __name__ == "__main__":
    main()
