#!/usr/bin/python3
"""Regenerates fixtures/arch/: small variants of real architectures (issue 12),
each built with torchvision 0.14's own classes at reduced widths, blocks and
input size so that the op pattern of the full network is kept while each file
stays small; plus two hand-made graphs (the ONNX zoo's CNTK MNIST pattern and a
tiny segmentation head). Writes NAME.onnx and NAME.input.npy (a float32 batch
of 2). No outputs are written: test/architectures.test.ts runs onnxruntime-node
on the committed .onnx file itself, so the reference cannot drift from it.

Run from the repository root with Debian's python (python3-torch,
python3-torchvision, python3-onnx):
    /usr/bin/python3 scripts/make-arch-fixtures.py

Every model gets random values for its constant-initialised parameters, is
calibrated so that its output depends clearly on its input (calibrate()), and
is in eval mode with fixed seeds and exported with
torch.onnx.export at opset 13 with a dynamic batch dimension N. The exact
builder arguments are listed in fixtures/arch/README.md; keep the two in step.
"""
import importlib
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from torchvision.models import GoogLeNet, MNASNet, MobileNetV2, ShuffleNetV2, SqueezeNet, VisionTransformer
from torchvision.ops.misc import Conv2dNormActivation

# The modules themselves (torchvision.models.googlenet is also the name of a builder function).
convnext, densenet, efficientnet, googlenet, mobilenetv3, squeezenet = (
    importlib.import_module(f"torchvision.models.{m}")
    for m in ("convnext", "densenet", "efficientnet", "googlenet", "mobilenetv3", "squeezenet")
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "arch")
OPSET = 13
BATCH = 2


def randomize(model):
    """Random values for every parameter a fresh torchvision model initialises
    to a constant (BatchNorm affine, zero biases, unit LayerNorm scales,
    ConvNeXt's 1e-6 layer scale, ViT's zero head and class token), so that no
    op is hidden behind a zero or an identity and BatchNorm folding is really
    tested. BatchNorm's running statistics are set by calibrate()."""
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() > 0 and bool((p == p.flatten()[0]).all()):
                base = p.flatten()[0].item()
                base = base if abs(base) >= 1e-3 else 0.0  # layer scale 1e-6 → around 0
                p.copy_(base + 0.3 * torch.randn_like(p))
    return model.eval()


CALIBRATION_BATCH = 16
CALIBRATION_PASSES = 4


def spread(y):
    """How much a batch of outputs differs between its inputs: the standard
    deviation across the batch, averaged over the elements."""
    return y.std(dim=0).mean().item()


def calibrate(model, shape):
    """Makes the output depend clearly on the input. With random BatchNorm
    statistics, or (SqueezeNet) random biases that outgrow a signal that
    shrinks layer after layer, every input gave nearly the same output. So,
    on a few batches of standard normal inputs:
      1. each Conv2d and Linear, in order, has its weight scaled so that its
         output differs by about 1 between inputs (LSUV-style);
      2. BatchNorm's running statistics are measured by train-mode passes
         (its random affine stays);
      3. in eval mode, the last layer's weight is scaled again so that the
         outputs differ by about 1 between inputs."""
    calibration = torch.cat([torch.randn(CALIBRATION_BATCH, *shape) for _ in range(CALIBRATION_PASSES)])
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the passes of step 2
        for layer in layers:
            seen = []
            hook = layer.register_forward_hook(lambda _m, _x, y: seen.append(spread(y)))
            model(calibration)
            hook.remove()
            if seen and seen[0] > 0:  # seen is empty for MultiheadAttention's out_proj, whose forward is never called
                layer.weight.mul_(1.0 / seen[0])
        model.train()
        for x in calibration.split(CALIBRATION_BATCH):
            model(x)
        model.eval()
        layers[-1].weight.mul_(1.0 / spread(model(calibration)))
    return model


def export(model, name, shape):
    path = os.path.join(OUT, f"{name}.onnx")
    x = torch.randn(BATCH, *shape)
    with torch.no_grad():
        y = model(x).flatten(1)
    print(f"{name}: max |y0 - y1| / max |y| = {((y[0] - y[1]).abs().max() / y.abs().max()).item():.3f}")
    torch.onnx.export(
        model, x, path, opset_version=OPSET, input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, do_constant_folding=True,
    )
    save(onnx.load(path), name, x.numpy())


def save(proto, name, x):
    onnx.checker.check_model(proto)
    path = os.path.join(OUT, f"{name}.onnx")
    onnx.save(proto, path)
    np.save(os.path.join(OUT, f"{name}.input.npy"), x.astype(np.float32))
    ops = sorted({n.op_type for n in proto.graph.node})
    print(f"{name}.onnx  {os.path.getsize(path) / 1024:6.1f} KB  ops {' '.join(ops)}")


# ---- torchvision architectures ---------------------------------------------------------


# MobileNetV2's own inverted_residual_setting (t, c, n, s), first five rows, n at most 2.
MOBILENET_V2_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]]


def mobilenet_v2():
    """MobileNetV2(width_mult=0.25, num_classes=10) on the first five rows of
    its block setting, with the 1280-channel last conv narrowed to 128
    (torchvision keeps 1280 whatever the width)."""
    m = MobileNetV2(num_classes=10, width_mult=0.25, inverted_residual_setting=MOBILENET_V2_SETTING)
    m.features[-1] = Conv2dNormActivation(m.features[-1][0].in_channels, 128, kernel_size=1, activation_layer=nn.ReLU6)
    m.classifier[1] = nn.Linear(128, 10)
    return m


def mobilenet_v3_small():
    """MobileNetV3 small: torchvision's own block settings at width_mult=0.25,
    the first five blocks (ReLU with and without squeeze-excitation,
    Hardswish with it, a residual one), last_channel 128."""
    setting, _ = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    return mobilenetv3.MobileNetV3(setting[:5], last_channel=128, num_classes=10)


def efficientnet_b0():
    """EfficientNet-B0's block settings at width_mult=0.25, depth_mult=0.25,
    the first five stages, last_channel 128."""
    setting, _ = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return efficientnet.EfficientNet(setting[:5], dropout=0.2, num_classes=10, last_channel=128)


def squeezenet_1_1():
    """SqueezeNet 1.1's layout with the first conv and every Fire module at an
    eighth of their channels."""
    m = SqueezeNet(version="1_1", num_classes=10)
    Fire = squeezenet.Fire
    m.features = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, stride=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(8, 2, 8, 8), Fire(16, 2, 8, 8),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(16, 4, 16, 16), Fire(32, 4, 16, 16),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(32, 6, 24, 24), Fire(48, 6, 24, 24), Fire(48, 8, 32, 32), Fire(64, 8, 32, 32),
    )
    m.classifier[1] = nn.Conv2d(64, 10, kernel_size=1)
    return m


def densenet_small():
    return densenet.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2, num_classes=10)


def googlenet_small():
    """GoogLeNet(aux_logits=False, init_weights=True) with every channel count
    divided by 16: the stem's BasicConv2d and each Inception block are
    torchvision's own, given a sixteenth of the widths GoogLeNet asks for."""
    div = 16

    def stem_conv(cin, cout, **kw):
        return googlenet.BasicConv2d(cin if cin == 3 else cin // div, cout // div, **kw)

    def inception(*channels, conv_block=None):
        return googlenet.Inception(*[c // div for c in channels], conv_block=googlenet.BasicConv2d)

    m = GoogLeNet(num_classes=10, aux_logits=False, init_weights=True,
                  blocks=[stem_conv, inception, googlenet.InceptionAux])
    m.fc = nn.Linear(1024 // div, 10)
    return m


def shufflenet_v2():
    return ShuffleNetV2(stages_repeats=[2, 2, 1], stages_out_channels=[8, 16, 32, 64, 128], num_classes=10)


def mnasnet_small():
    """MNASNet(alpha=0.1) without its last two block stacks (layers[12:14]),
    the 1280-channel final conv narrowed to 128."""
    m = MNASNet(alpha=0.1, num_classes=10)
    del m.layers[12:14]
    m.layers[-3] = nn.Conv2d(16, 128, 1, bias=False)  # 16: depths[5] at alpha 0.1, the last stack kept
    m.layers[-2] = nn.BatchNorm2d(128)
    m.classifier[1] = nn.Linear(128, 10)
    return m


def convnext_small():
    setting = [convnext.CNBlockConfig(16, 32, 1), convnext.CNBlockConfig(32, None, 1)]
    return convnext.ConvNeXt(setting, num_classes=10)


def vit_small():
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)


class SegmentationHead(nn.Module):
    """Encoder conv s2, ConvTranspose s2 back up, then the two upsamplings
    segmentation heads use: nearest ×2 and bilinear ×2 (align_corners=False)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1)
        self.mix = nn.Conv2d(6, 4, 3, padding=1)

    def forward(self, x):  # x [N, 3, 16, 16]
        x = F.relu(self.down(x))  # [N, 8, 8, 8]
        x = F.relu(self.up(x))  # [N, 6, 16, 16]
        x = F.interpolate(x, scale_factor=2, mode="nearest")  # [N, 6, 32, 32]
        x = self.mix(x)  # [N, 4, 32, 32]
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # [N, 4, 64, 64]


# ---- the ONNX zoo's MNIST (CNTK export) -----------------------------------------------


def mnist_cntk():
    """The op pattern of the ONNX model zoo's mnist-8 (CNTK): Conv with
    auto_pad SAME_UPPER and the bias as a separate Add of a [C, 1, 1]
    initializer, Relu, MaxPool, and the classifier weight stored as a
    [16, 4, 4, 10] initializer that a Reshape turns into [256, 10] for MatMul.
    The zoo's batch is fixed at 1; here it is symbolic (N) like the others."""
    rng = np.random.default_rng(12)

    def init(name, shape, scale):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [
        init("Parameter5", [8, 1, 5, 5], 0.3), init("Parameter6", [8, 1, 1], 0.1),
        init("Parameter87", [16, 8, 5, 5], 0.1), init("Parameter88", [16, 1, 1], 0.1),
        init("Parameter193", [16, 4, 4, 10], 0.1), init("Parameter194", [1, 10], 0.1),
        numpy_helper.from_array(np.array([256, 10], dtype=np.int64), "Parameter193_reshape1_shape"),
        numpy_helper.from_array(np.array([-1, 256], dtype=np.int64), "Pooling160_Output_0_reshape0_shape"),
    ]
    N = helper.make_node
    nodes = [
        N("Reshape", ["Parameter193", "Parameter193_reshape1_shape"], ["Parameter193_reshape1"], name="Times212_reshape1"),
        N("Conv", ["Input3", "Parameter5"], ["Convolution28_Output_0"], name="Convolution28",
          kernel_shape=[5, 5], strides=[1, 1], auto_pad="SAME_UPPER", group=1, dilations=[1, 1]),
        N("Add", ["Convolution28_Output_0", "Parameter6"], ["Plus30_Output_0"], name="Plus30"),
        N("Relu", ["Plus30_Output_0"], ["ReLU32_Output_0"], name="ReLU32"),
        N("MaxPool", ["ReLU32_Output_0"], ["Pooling66_Output_0"], name="Pooling66",
          kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0], auto_pad="NOTSET"),
        N("Conv", ["Pooling66_Output_0", "Parameter87"], ["Convolution110_Output_0"], name="Convolution110",
          kernel_shape=[5, 5], strides=[1, 1], auto_pad="SAME_UPPER", group=1, dilations=[1, 1]),
        N("Add", ["Convolution110_Output_0", "Parameter88"], ["Plus112_Output_0"], name="Plus112"),
        N("Relu", ["Plus112_Output_0"], ["ReLU114_Output_0"], name="ReLU114"),
        N("MaxPool", ["ReLU114_Output_0"], ["Pooling160_Output_0"], name="Pooling160",
          kernel_shape=[3, 3], strides=[3, 3], pads=[0, 0, 0, 0], auto_pad="NOTSET"),
        N("Reshape", ["Pooling160_Output_0", "Pooling160_Output_0_reshape0_shape"], ["Pooling160_Output_0_reshape0"],
          name="Times212_reshape0"),
        N("MatMul", ["Pooling160_Output_0_reshape0", "Parameter193_reshape1"], ["Times212_Output_0"], name="Times212"),
        N("Add", ["Times212_Output_0", "Parameter194"], ["Plus214_Output_0"], name="Plus214"),
    ]
    # IR version 3, like the zoo's file: every initializer is also a graph input.
    graph = helper.make_graph(
        nodes, "CNTKGraph",
        [helper.make_tensor_value_info("Input3", TensorProto.FLOAT, ["N", 1, 28, 28])]
        + [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits],
        [helper.make_tensor_value_info("Plus214_Output_0", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    proto = helper.make_model(graph, producer_name="CNTK", opset_imports=[helper.make_opsetid("", 8)])
    proto.ir_version = 3
    save(proto, "mnist_cntk", rng.random((BATCH, 1, 28, 28), dtype=np.float32) * 255)


# name → (builder, per-example input shape, seed)
TORCHVISION = {
    "mobilenet_v2": (mobilenet_v2, [3, 32, 32], 1),
    "mobilenet_v3_small": (mobilenet_v3_small, [3, 32, 32], 2),
    "efficientnet_b0": (efficientnet_b0, [3, 32, 32], 3),
    "squeezenet1_1": (squeezenet_1_1, [3, 64, 64], 4),
    "densenet": (densenet_small, [3, 32, 32], 5),
    "googlenet": (googlenet_small, [3, 64, 64], 6),
    "shufflenet_v2": (shufflenet_v2, [3, 32, 32], 7),
    "mnasnet": (mnasnet_small, [3, 32, 32], 8),
    "convnext": (convnext_small, [3, 32, 32], 9),
    "vit": (vit_small, [3, 32, 32], 10),
    "segmentation_head": (SegmentationHead, [3, 16, 16], 11),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (build, shape, seed) in TORCHVISION.items():
        torch.manual_seed(seed)
        export(calibrate(randomize(build()), shape), name, shape)
    mnist_cntk()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"fixtures/arch: {total / 1024:.0f} KB in all")


if __name__ == "__main__":
    main()
