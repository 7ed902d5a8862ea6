#!/usr/bin/python3
"""Dense PyTorch models trained on Fashion-MNIST, exported to ONNX, for
checking `hnet convert --retrain`'s defaults on models they were not tuned on
(issue 9). Each model is trained with a different input preprocessing, which
is written to fixtures/retrain/README.md and NOT into the ONNX file: an
imported model carries no preprocessing, which is the case hnet must handle.

    /usr/bin/python3 scripts/make-retrain-fixtures.py [--epochs 3]

Writes fixtures/retrain/{mlp,lenet,bn_cnn}.onnx and accuracy.json
(dense test accuracy of each, under its own preprocessing).
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "retrain")

# name → (x_bytes ↦ model input): pixel/255; mean/std of Fashion-MNIST's training pixels; [-1, 1].
MEAN, STD = 0.2860, 0.3530
PREPROCESS = {
    "pixel/255": lambda x: x / 255.0,
    "mean/std": lambda x: (x / 255.0 - MEAN) / STD,
    "[-1,1]": lambda x: x / 127.5 - 1.0,
}
# The same as hnet flags: x' = (raw · scale − mean) / std.
FLAGS = {
    "pixel/255": "--preprocess pixel/255",
    "mean/std": f"--input-scale 1/255 --mean {MEAN} --std {STD}",
    "[-1,1]": "--input-scale 1/255 --mean 0.5 --std 0.5",
}


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4 : 4 + 4 * rank])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


class Mlp(torch.nn.Module):
    """784-300-100-10 (Flatten, Gemm, Relu), logits out."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = torch.nn.Linear(784, 300), torch.nn.Linear(300, 100), torch.nn.Linear(100, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class LeNet(torch.nn.Module):
    """LeNet-5 style: conv5-6, pool, conv5-16, pool, 256-120-84-10."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = torch.nn.Conv2d(1, 6, 5), torch.nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = torch.nn.Linear(256, 120), torch.nn.Linear(120, 84), torch.nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.f3(F.relu(self.f2(F.relu(self.f1(torch.flatten(x, 1))))))


class BnCnn(torch.nn.Module):
    """Conv3-16/BN/ReLU/pool, Conv3-32/BN/ReLU/pool, 1568-64-10 (BatchNorm kept in the ONNX)."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.BatchNorm2d(16)
        self.c2, self.b2 = torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.BatchNorm2d(32)
        self.f1, self.f2 = torch.nn.Linear(32 * 7 * 7, 64), torch.nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)
        return self.f2(F.relu(self.f1(torch.flatten(x, 1))))


# name → (model class, preprocessing, optimiser, lr)
MODELS = {
    "mlp": (Mlp, "pixel/255", "sgd", 0.05),
    "lenet": (LeNet, "mean/std", "adam", 1e-3),
    "bn_cnn": (BnCnn, "[-1,1]", "sgd", 0.05),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--only", default=",".join(MODELS))
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    xtr = idx(f"{DATA}/train-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28).astype(np.float32)
    ytr = torch.tensor(idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = idx(f"{DATA}/t10k-images-idx3-ubyte.gz").reshape(-1, 1, 28, 28).astype(np.float32)
    yte = torch.tensor(idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    acc_path = os.path.join(OUT, "accuracy.json")
    results = json.load(open(acc_path)) if os.path.exists(acc_path) else {}
    for name in args.only.split(","):
        cls, prep, opt_name, lr = MODELS[name]
        torch.manual_seed(7)
        model = cls()
        x, xt = torch.tensor(PREPROCESS[prep](xtr)), torch.tensor(PREPROCESS[prep](xte))
        if opt_name == "adam":
            opt = torch.optim.Adam(model.parameters(), lr=lr)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        t0 = time.perf_counter()
        g = torch.Generator().manual_seed(7)
        for _ in range(args.epochs):
            model.train()
            for b in torch.randperm(len(x), generator=g).split(64):
                opt.zero_grad()
                F.cross_entropy(model(x[b]), ytr[b]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            acc = float((torch.cat([model(c) for c in xt.split(1000)]).argmax(1) == yte).float().mean())
        path = os.path.join(OUT, f"{name}.onnx")
        torch.onnx.export(
            model, x[:2], path, opset_version=13, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
            training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True,
        )
        onnx.checker.check_model(onnx.load(path))
        results[name] = {"preprocessing": prep, "flags": FLAGS[prep], "test_accuracy": round(acc, 4), "epochs": args.epochs,
                         "optimizer": f"{opt_name} lr {lr}, batch 64, seed 7"}
        print(f"{name}.onnx: {prep}, {args.epochs} epochs, test accuracy {100 * acc:.2f}%, "
              f"{os.path.getsize(path)} bytes, {time.perf_counter() - t0:.0f} s")
    with open(acc_path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
