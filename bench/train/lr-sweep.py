#!/usr/bin/python3
"""Learning-rate study for retraining a hashed model from the projection of a
trained dense one (what `hnet convert --retrain` does), issue 9.

A dense 784-1000-10 ReLU net is trained on Fashion-MNIST (the net the
defaults are tuned on; the fixtures in fixtures/retrain are NOT used here),
both layers are hashed to 1/8 and 1/64 (random bucket index and sign, each
bucket the least-squares fit of its dense weights: the signed mean, as
hnet's hashing does), and the hashed net is retrained with SGD (momentum
0.9, batch 50: hnet's defaults) for each learning rate, with and without a
linear warm-up, with a constant or per-step cosine schedule, with labels
only or with distillation from the dense net (alpha 0.5, T 4: hnet's
--distill), and with one rate for every tensor or (variants ending in
-sqrt) each bucket vector's rate divided by sqrt(virtual weights per
bucket). Warm-up: linear over the first half epoch. Scored on 5,000 held-out training images (never the test set).

    /usr/bin/python3 bench/train/lr-sweep.py [--epochs 3] [--threads 1]
"""
import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_reference import DATA, idx  # the same IDX reader and data folder as the speed reference


class Hashed(torch.nn.Module):
    """Linear layer whose weight is sign * buckets[index], buckets fitted to a dense weight."""

    def __init__(self, dense: torch.nn.Linear, ratio, gen):
        super().__init__()
        w = dense.weight.detach()
        k = max(1, math.ceil(w.numel() * ratio))
        index = torch.randint(0, k, w.shape, generator=gen)
        sign = torch.randint(0, 2, w.shape, generator=gen).float() * 2 - 1
        total = torch.zeros(k).scatter_add_(0, index.flatten(), (sign * w).flatten())
        count = torch.zeros(k).scatter_add_(0, index.flatten(), torch.ones(w.numel()))
        self.buckets = torch.nn.Parameter(total / count.clamp(min=1))
        self.register_buffer("index", index)
        self.register_buffer("sign", sign)
        self.bias = torch.nn.Parameter(dense.bias.detach().clone())

    def forward(self, x):
        return F.linear(x, self.buckets[self.index] * self.sign, self.bias)


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def param_groups(model, lr, per_load):
    """One group per tensor; with per_load, a bucket vector's rate is lr / sqrt(virtual weights per bucket)."""
    groups = []
    for m in model:
        for name, p in m.named_parameters(recurse=False):
            load = m.index.numel() / p.numel() if per_load and name == "buckets" else 1
            groups.append({"params": [p], "lr": lr / math.sqrt(load), "base": lr / math.sqrt(load)})
    return groups


def run(model, teacher, x, y, xv, yv, lr, epochs, warmup, schedule, distill, batch, gen, per_load=False):
    opt = torch.optim.SGD(param_groups(model, lr, per_load), lr=lr, momentum=0.9)
    steps_per_epoch = math.ceil(len(x) / batch)
    total = epochs * steps_per_epoch
    step = 0
    diverged = False
    for _ in range(epochs):
        for b in torch.randperm(len(x), generator=gen).split(batch):
            f = 1.0
            if step < warmup:
                f = (step + 1) / warmup
            elif schedule == "cosine":
                f = 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
            for g in opt.param_groups:
                g["lr"] = g["base"] * f
            logits = model(x[b])
            loss = F.cross_entropy(logits, y[b])
            if distill:
                with torch.no_grad():
                    soft = F.softmax(teacher(x[b]) / 4, 1)
                kd = F.kl_div(F.log_softmax(logits / 4, 1), soft, reduction="batchmean") * 16
                loss = 0.5 * loss + 0.5 * kd
            if not torch.isfinite(loss):
                diverged = True
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        if diverged:
            break
    return None if diverged else accuracy(model, xv, yv)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train", type=int, default=20000, help="training examples for the retraining runs")
    ap.add_argument("--ratios", default="8,64")
    ap.add_argument("--lrs", default="0.001,0.003,0.01,0.03,0.1")
    ap.add_argument("--variants", default="const,warm-const,warm-cosine,warm-cosine-distill")
    ap.add_argument("--input", default="std", help="std: (x/255-0.286)/0.353; unit: x/255")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    raw = idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    if args.input == "std":
        raw = (raw - 0.286) / 0.353
    labels = torch.tensor(idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xall = torch.tensor(raw)
    xv, yv = xall[55000:], labels[55000:]
    x, y = xall[: args.train], labels[: args.train]
    torch.manual_seed(11)
    dense = torch.nn.Sequential(torch.nn.Linear(784, 1000), torch.nn.ReLU(), torch.nn.Linear(1000, 10))
    gen = torch.Generator().manual_seed(11)
    t0 = time.perf_counter()
    run(dense, None, xall[:55000], labels[:55000], xv, yv, 0.01, 3, 0, "cosine", False, 50, gen)
    print(f"dense 784-1000-10 (3 epochs on 55k, input {args.input}): held-out {100 * accuracy(dense, xv, yv):.2f}% ({time.perf_counter() - t0:.0f} s)", flush=True)
    for r in [int(v) for v in args.ratios.split(",")]:
        g = torch.Generator().manual_seed(5)
        hashed0 = torch.nn.Sequential(Hashed(dense[0], 1 / r, g), torch.nn.ReLU(), Hashed(dense[2], 1 / r, g))
        print(f"1/{r}: projection before training {100 * accuracy(hashed0, xv, yv):.2f}%", flush=True)
        for variant in args.variants.split(","):
            for lr in [float(v) for v in args.lrs.split(",")]:
                # A fresh copy of the projection (index and sign are buffers: the state dict carries them).
                model = torch.nn.Sequential(Hashed(dense[0], 1 / r, torch.Generator()), torch.nn.ReLU(), Hashed(dense[2], 1 / r, torch.Generator()))
                model.load_state_dict(hashed0.state_dict())
                warm = math.ceil(len(x) / 50) // 2 if variant.startswith("warm") else 0  # half an epoch
                t0 = time.perf_counter()
                acc = run(model, dense, x, y, xv, yv, lr, args.epochs, warm, "cosine" if "cosine" in variant else "constant",
                          "distill" in variant, 50, torch.Generator().manual_seed(3), variant.endswith("sqrt"))
                shown = "diverged" if acc is None else f"{100 * acc:.2f}%"
                print(f"RESULT 1/{r} {variant:20s} lr {lr:<6g} held-out {shown} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
