#!/usr/bin/python3
"""PyTorch reference timing for bench/train/fashion-mnist.ts (issue 4).

Times a dense 784-1000-10 ReLU epoch and a HashedNets epoch (both layers
hashed to 1/8 and 1/64 of their weights; virtual weight = sign * w[idx],
gradient through PyTorch's index backward, an O(weights) scatter-add) on
Fashion-MNIST with the same optimiser as the hnet benchmark (SGD, momentum
0.9, Nesterov, lr 0.01, batch 100).  Bucket indices and signs are random
here: the timing does not depend on which hash picks them.

Also a LeNet-5-style CNN (config lenet8: conv 6@5x5 pad 2, max-pool, conv
16@5x5, max-pool, 120-84-10, every weight hashed to 1/8), the same network
as bench/train/engines.ts builds for hnet.

Run with Debian's torch:  /usr/bin/python3 bench/train/torch_reference.py [--epochs 1] [--threads 1] [--examples 60000]
Debian's torch uses whatever libblas the alternatives point to; install
libopenblas0-pthread first (the netlib reference BLAS is ~20x slower). The
first output line names the BLAS library that is actually loaded. Beyond one
thread bench/train/engines.ts also runs it on libopenblas0-openmp (through
LD_LIBRARY_PATH; see bench/train/README.md).
"""
import argparse
import ctypes
import gzip
import struct
import time

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class HashedLinear(torch.nn.Module):
    def __init__(self, fan_in, fan_out, ratio, gen):
        super().__init__()
        n = fan_in * fan_out
        k = max(1, round(n * ratio))
        limit = (6 / (fan_in + fan_out)) ** 0.5
        self.buckets = torch.nn.Parameter((torch.rand(k, generator=gen) * 2 - 1) * limit)
        self.register_buffer("index", torch.randint(0, k, (fan_out, fan_in), generator=gen))
        self.register_buffer("sign", torch.randint(0, 2, (fan_out, fan_in), generator=gen).float() * 2 - 1)
        self.bias = torch.nn.Parameter(torch.zeros(fan_out))

    def forward(self, x):
        return torch.nn.functional.linear(x, self.buckets[self.index] * self.sign, self.bias)


class HashedConv2d(torch.nn.Module):
    def __init__(self, c_in, c_out, kernel, ratio, gen, padding=0):
        super().__init__()
        n = c_out * c_in * kernel * kernel
        k = max(1, round(n * ratio))
        limit = (6 / ((c_in + c_out) * kernel * kernel)) ** 0.5
        self.padding = padding
        self.buckets = torch.nn.Parameter((torch.rand(k, generator=gen) * 2 - 1) * limit)
        self.register_buffer("index", torch.randint(0, k, (c_out, c_in, kernel, kernel), generator=gen))
        self.register_buffer("sign", torch.randint(0, 2, (c_out, c_in, kernel, kernel), generator=gen).float() * 2 - 1)
        self.bias = torch.nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        return torch.nn.functional.conv2d(x, self.buckets[self.index] * self.sign, self.bias, padding=self.padding)


def lenet(ratio, gen):
    relu, pool = torch.nn.ReLU, lambda: torch.nn.MaxPool2d(2)
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 28, 28)),
        HashedConv2d(1, 6, 5, ratio, gen, padding=2), relu(), pool(),
        HashedConv2d(6, 16, 5, ratio, gen), relu(), pool(),
        torch.nn.Flatten(),
        HashedLinear(400, 120, ratio, gen), relu(),
        HashedLinear(120, 84, ratio, gen), relu(),
        HashedLinear(84, 10, ratio, gen),
    )


def blas_library():
    torch.randn(64, 64) @ torch.randn(64, 64)  # loads the BLAS
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower()}
    core = ""
    for lib in libs:
        if "libopenblas" in lib:  # which kernels OpenBLAS chose (OPENBLAS_CORETYPE forces a core)
            get = ctypes.CDLL(lib).openblas_get_corename
            get.restype = ctypes.c_char_p
            core = f" (core {get().decode()})"
    return (", ".join(sorted(libs)) or "none found") + core


def mlp(hidden, ratio, gen):
    if ratio >= 1:
        return torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    return torch.nn.Sequential(HashedLinear(784, hidden, ratio, gen), torch.nn.ReLU(), HashedLinear(hidden, 10, ratio, gen))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--configs", default="dense,hash8,hash64,nn8,nn64")
    ap.add_argument("--examples", type=int, default=60000, help="train on the first N examples (timings scale to 60k)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.tensor((idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0 - 0.286) / 0.353, dtype=torch.float32)
    y = torch.tensor(idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xt = torch.tensor((idx(f"{DATA}/t10k-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0 - 0.286) / 0.353, dtype=torch.float32)
    yt = torch.tensor(idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    x, y = x[: args.examples], y[: args.examples]
    print(f"torch {torch.__version__}, {args.threads} threads, {len(x)} train / {len(xt)} test, {args.epochs} epoch(s), BLAS {blas_library()}")
    widths = {"nn8": 126, "nn64": 17}  # equal stored parameters, as in fashion-mnist.ts
    for config in args.configs.split(","):
        gen = torch.Generator().manual_seed(1)
        ratio = 1 / int(config[4:]) if config.startswith("hash") else 1
        model = lenet(1 / 8, gen) if config == "lenet8" else mlp(widths.get(config, 1000), ratio, gen)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        times = []
        opt.zero_grad()  # warm-up step, untimed: first calls allocate and pick kernels
        torch.nn.functional.cross_entropy(model(x[:100]), y[:100]).backward()
        opt.step()
        for _ in range(args.epochs):
            order = torch.randperm(len(x), generator=gen)
            t0 = time.perf_counter()
            for i in range(0, len(x), 100):
                b = order[i : i + 100]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[b]), y[b]).backward()
                opt.step()
            times.append(time.perf_counter() - t0)
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        seconds = sum(times) / len(times)
        print(f"RESULT {config}: {seconds:.3f} s/epoch, {seconds * 60000 / len(x):.2f} s per 60k, test accuracy {100 * acc:.2f}% after {args.epochs} epoch(s)")


if __name__ == "__main__":
    main()
