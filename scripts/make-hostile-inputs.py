#!/usr/bin/python3
"""Regenerates the hostile inputs of the ONNX importer and the data loaders in
test/hostile/ (onnx/, idx/, npy/, csv/): external data pointing out of the
model's folder, attributes of the wrong type, a gzip bomb as IDX, labels that
are not classes, non-finite inputs. Their cases are listed by hand in
test/hostile/manifest.json (this script never writes it).

Run from the repository root with Debian's python (python3-onnx, numpy):
    /usr/bin/python3 scripts/make-hostile-inputs.py

Cases that need the file system at test time (a FIFO, symlinks, /dev/zero
through a symlink) are built by packages/convert/test/external-data.test.ts.
"""
import gzip
import os
import shutil
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "hostile")
FEATURES = 196  # fixtures/mlp.onnx: input [N, 1, 14, 14], 10 classes


def path(*parts):
    p = os.path.join(OUT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def fresh(folder):
    shutil.rmtree(os.path.join(OUT, folder), ignore_errors=True)
    os.makedirs(os.path.join(OUT, folder))


# ---- ONNX ----------------------------------------------------------------------

def gemm_model(weight, attributes=None, name="fc", output="y"):
    """x [N, 4] -> Gemm(x, w [3, 4], b, transB=1) -> output [N, 3]."""
    b = numpy_helper.from_array(np.array([0.5, -1, 2], dtype=np.float32), "b")
    attrs = attributes if attributes is not None else [helper.make_attribute("transB", 1)]
    node = helper.make_node("Gemm", ["x", "w", "b"], [output], name)
    node.attribute.extend(attrs)
    graph = helper.make_graph(
        [node], "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", 3])],
        [weight, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="hnet-hostile")


def external_weight(location, offset=None, length=None):
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[3, 4], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = t.external_data.add()
            entry.key, entry.value = key, value
    return t


def save(model, name):
    # Not onnx.save: it would try to resolve the external data.
    with open(path("onnx", name), "wb") as f:
        f.write(model.SerializeToString())


W = numpy_helper.from_array((np.arange(12, dtype=np.float32).reshape(3, 4) / 10), "w")


def make_onnx():
    fresh("onnx")
    for name, location in [
        ("ext-absolute-etc-passwd.onnx", "/etc/passwd"),
        ("ext-dotdot-etc-passwd.onnx", "../../../../../../../../../etc/passwd"),
        ("ext-proc-self-environ.onnx", "/proc/self/environ"),
        ("ext-dev-stdin.onnx", "/dev/stdin"),
        ("ext-dev-zero.onnx", "/dev/zero"),
        ("ext-dotdot-dev-zero.onnx", "../../../../../../../../../dev/zero"),
        ("ext-model-folder.onnx", "."),
    ]:
        save(gemm_model(external_weight(location)), name)
    # 48 bytes on disk; the model asks for [8, 56).
    with open(path("onnx", "ext-range.bin"), "wb") as f:
        f.write(numpy_helper.to_array(W).tobytes())
    save(gemm_model(external_weight("ext-range.bin", "8", "48")), "ext-range.onnx")
    # A legitimate external-data model, written by onnx itself.
    onnx.save_model(gemm_model(W), path("onnx", "ext-ok.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="ext-ok.data", size_threshold=0)

    save(gemm_model(W, [helper.make_attribute("transB", 1.0)]), "attr-gemm-transb-float.onnx")

    def unary(op, attribute, name):
        node = helper.make_node(op, ["x"], ["y"], op.lower())
        node.attribute.extend([attribute])
        graph = helper.make_graph([node], "hostile",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
        save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), name)

    unary("LeakyRelu", helper.make_attribute("alpha", 3), "attr-leakyrelu-alpha-int.onnx")
    unary("Softmax", helper.make_attribute("axis", 1.0), "attr-softmax-axis-float.onnx")
    # An unsupported op whose name retitles the terminal and clears the screen.
    # (Elu: an op that stays unsupported; Erf, used until format 1.1, is now converted.)
    unary("Elu", helper.make_attribute("unused", 1), "terminal-escape-name.onnx")
    m = onnx.load(path("onnx", "terminal-escape-name.onnx"))
    del m.graph.node[0].attribute[:]
    m.graph.node[0].name = "elu\x1b]0;pwned\x07\x1b[2J"
    save(m, "terminal-escape-name.onnx")

    k = numpy_helper.from_array(np.ones((1, 1, 2, 2), dtype=np.float32), "k")
    conv = helper.make_node("Conv", ["x", "k"], ["y"], "conv", strides=[0, 1])
    graph = helper.make_graph([conv], "hostile",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 3, 3])], [k])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), "conv-strides-0.onnx")

    # Node "fc" writes the tensor "fc.weight": export-onnx's generated initializer name.
    relu = helper.make_node("Relu", ["fc.weight"], ["y"], "relu")
    m = gemm_model(W, output="fc.weight")
    m.graph.node.append(relu)
    m.graph.output[0].name = "y"
    save(m, "export-name-collision.onnx")


def added_to_x(nodes, value, initializers=(), opset=13):
    """x [N, 1] + ReduceSum(value) -> y [N, 1]: the constant `value` is folded at import."""
    total = helper.make_node("ReduceSum", [value], ["total"], "total", keepdims=0)
    add = helper.make_node("Add", ["x", "total"], ["y"], "add")
    graph = helper.make_graph(
        [*nodes, total, add], "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])], list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="hnet-hostile")


def int64s(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def make_fold_bombs():
    """Constant folding of a tiny file into a huge value (2^27 elements: 1 GiB as float64)."""
    big = [8192, 16384]
    save(added_to_x([helper.make_node("ConstantOfShape", ["shape"], ["c"], "fill",
                                      value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]))],
                    "c", [int64s("shape", big)]), "fold-constantofshape.onnx")
    save(added_to_x([helper.make_node("Expand", ["one", "shape"], ["c"], "expand")], "c",
                    [numpy_helper.from_array(np.ones(1, dtype=np.float32), "one"), int64s("shape", big)]),
         "fold-expand.onnx")
    save(added_to_x([helper.make_node("Range", ["start", "limit", "delta"], ["c"], "range")], "c",
                    [numpy_helper.from_array(np.array(v, dtype=np.float32), n)
                     for n, v in (("start", 0), ("limit", 2 ** 27), ("delta", 1))]), "fold-range.onnx")
    # 27 Concats, each of the one before with itself: 2^27 elements from one.
    doubling = [helper.make_node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], f"double{i}", axis=0) for i in range(27)]
    save(added_to_x(doubling, "c27", [numpy_helper.from_array(np.ones(1, dtype=np.float32), "c0")]), "fold-concat-doubling.onnx")
    # Pad and Resize of a constant have no fold of their own: the reference forward evaluates them.
    save(added_to_x([helper.make_node("Pad", ["one", "pads"], ["c"], "pad")], "c",
                    [numpy_helper.from_array(np.ones((1, 1, 1, 1), dtype=np.float32), "one"), int64s("pads", [0, 0, 0, 0, 0, 0, 8191, 16383])]),
         "fold-pad.onnx")
    save(added_to_x([helper.make_node("Resize", ["one", "", "scales"], ["c"], "resize", mode="nearest")], "c",
                    [numpy_helper.from_array(np.ones((1, 1, 1, 1), dtype=np.float32), "one"),
                     numpy_helper.from_array(np.array([1, 1, 8192, 16384], dtype=np.float32), "scales")]),
         "fold-resize.onnx")
    # A negative size: new Float64Array(-3) threw a RangeError, printed as an internal error.
    save(added_to_x([helper.make_node("ConstantOfShape", ["shape"], ["c"], "fill")], "c", [int64s("shape", [2, -3])]),
         "fold-constantofshape-negative.onnx")


# ---- IDX, NPY, CSV ----------------------------------------------------------------

def idx(type_code, dims, data=b""):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def make_idx():
    fresh("idx")
    # 1 image of 14x14 declared, 64 MiB of zeros behind it (64 KiB compressed).
    header = idx(0x08, [1, 14, 14], bytes(FEATURES))
    with open(path("idx", "bomb-images-idx3-ubyte.gz"), "wb") as f:
        f.write(gzip.compress(header + bytes(64 << 20), compresslevel=9, mtime=0))
    # An MNIST-layout folder whose second label is 200 (mlp.onnx has 10 classes).
    with open(path("idx", "label-200", "train-images-idx3-ubyte"), "wb") as f:
        f.write(idx(0x08, [2, 14, 14], bytes(2 * FEATURES)))
    with open(path("idx", "label-200", "train-labels-idx1-ubyte"), "wb") as f:
        f.write(idx(0x08, [2], bytes([3, 200])))


def make_npy():
    fresh("npy")
    x = np.zeros((2, 1, 14, 14), dtype=np.float32)
    for name, labels in [("labels-3.7", [1, 3.7]), ("labels-nan", [1, np.nan]),
                         ("labels-1e10", [1, 1e10]), ("labels-minus-3", [1, -3])]:
        np.save(path("npy", name, "x.npy"), x)
        np.save(path("npy", name, "y.npy"), np.array(labels, dtype=np.float64))
    bad = x.copy()
    bad[1, 0, 0, 5] = np.nan
    np.save(path("npy", "nan-input", "x.npy"), bad)
    np.save(path("npy", "nan-input", "y.npy"), np.array([1, 2], dtype=np.int64))


def make_csv():
    fresh("csv")
    header = ",".join(["label"] + [f"p{i}" for i in range(FEATURES)])
    zeros = ",".join(["0"] * FEATURES)

    def write(name, text):
        with open(path("csv", name), "w") as f:
            f.write(text)

    write("label-42.csv", f"{header}\n1,{zeros}\n42,{zeros}\n")
    write("infinity.csv", f"{header}\n1,{zeros}\n2,Infinity{zeros[1:]}\n")
    write("1e999.csv", f"{header}\n1,{zeros[:-1]}1e999\n")
    write("header-only.csv", f"{header}\n")
    # No "label" header: the label is the first column (docs/CLI.md), not a 197th feature.
    other = ",".join(["digit"] + [f"p{i}" for i in range(FEATURES)])
    write("no-label-header.csv", f"{other}\n1,{zeros}\n7,{zeros}\n")


if __name__ == "__main__":
    make_onnx()
    make_fold_bombs()
    make_idx()
    make_npy()
    make_csv()
    print(f"wrote {OUT}/onnx, idx, npy, csv")
