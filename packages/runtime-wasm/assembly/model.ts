// The model as the runtime holds it, and its parser: .hnet bytes -> Model.
// Validation mirrors @hnet/format's decode: identifier, then version, then
// every table, index, length and shape. Parsing never trusts a number it has
// not checked against the file size or the format's rules.

import { Reader, Vec } from "./fb";
import { E_IDENTIFIER, E_INVALID, E_VERSION, fail, failed } from "./errors";
import { MAX_DIMENSION, MAX_ELEMENTS, MAX_GEOMETRY, MAX_RANK } from "./limits";

// Op union tags (schema order, tag = index + 1).
export const OP_DENSE: i32 = 1;
export const OP_CONV2D: i32 = 2;
export const OP_RELU: i32 = 3;
export const OP_LEAKYRELU: i32 = 4;
export const OP_SIGMOID: i32 = 5;
export const OP_TANH: i32 = 6;
export const OP_SOFTMAX: i32 = 7;
export const OP_LOGSOFTMAX: i32 = 8;
export const OP_FLATTEN: i32 = 9;
export const OP_RESHAPE: i32 = 10;
export const OP_MAXPOOL: i32 = 11;
export const OP_AVERAGEPOOL: i32 = 12;
export const OP_GLOBALAVERAGEPOOL: i32 = 13;
export const OP_BATCHNORM: i32 = 14;
export const OP_ADD: i32 = 15;
// 1.1
export const OP_CONSTANT: i32 = 16;
export const OP_CONCAT: i32 = 17;
export const OP_SLICE: i32 = 18;
export const OP_CLIP: i32 = 19;
export const OP_HARDSIGMOID: i32 = 20;
export const OP_HARDSWISH: i32 = 21;
export const OP_MUL: i32 = 22;
export const OP_SUB: i32 = 23;
export const OP_DIV: i32 = 24;
export const OP_POW: i32 = 25;
export const OP_SQRT: i32 = 26;
export const OP_EXP: i32 = 27;
export const OP_ERF: i32 = 28;
export const OP_NEG: i32 = 29;
export const OP_REDUCEMEAN: i32 = 30;
export const OP_REDUCESUM: i32 = 31;
export const OP_REDUCEMAX: i32 = 32;
export const OP_TRANSPOSE: i32 = 33;
export const OP_MATMUL: i32 = 34;
export const OP_LAYERNORM: i32 = 35;
export const OP_GELU: i32 = 36;
export const OP_SQUEEZE: i32 = 37;
export const OP_UNSQUEEZE: i32 = 38;
export const OP_PAD: i32 = 39;
export const OP_GLOBALMAXPOOL: i32 = 40;
export const OP_RESIZE: i32 = 41;
export const OP_CONVTRANSPOSE: i32 = 42;
export const OP_EXPAND: i32 = 43;
const OP_LAST: i32 = 43;

export const OP_NAMES: string[] = [
  "?", "Dense", "Conv2D", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
  "Flatten", "Reshape", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNorm", "Add",
  "Constant", "Concat", "Slice", "Clip", "HardSigmoid", "HardSwish", "Mul", "Sub", "Div", "Pow", "Sqrt", "Exp",
  "Erf", "Neg", "ReduceMean", "ReduceSum", "ReduceMax", "Transpose", "MatMul", "LayerNorm", "Gelu", "Squeeze",
  "Unsqueeze", "Pad", "GlobalMaxPool", "Resize", "ConvTranspose", "Expand",
];

// Resize's enums (schema order).
export const RESIZE_NEAREST: i32 = 0;
export const RESIZE_LINEAR: i32 = 1;
export const COORD_HALF_PIXEL: i32 = 0;
export const COORD_ASYMMETRIC: i32 = 1;
export const COORD_ALIGN_CORNERS: i32 = 2;
export const COORD_PYTORCH_HALF_PIXEL: i32 = 3;
export const ROUND_PREFER_FLOOR: i32 = 0;
export const ROUND_PREFER_CEIL: i32 = 1;
export const ROUND_FLOOR: i32 = 2;
export const ROUND_CEIL: i32 = 3;

export const DT_FLOAT32: i32 = 0;
export const DT_FLOAT16: i32 = 1;
export const DT_INT8: i32 = 2;
export const DT_INT4: i32 = 3; // 1.1: two per byte, element 2i in the low nibble of byte i

/** 2^53: Slice's integers stay within what a JavaScript number holds exactly. */
const SAFE_INTEGER: i64 = 1 << 53;

export const READER_MAJOR: u32 = 1;
export const READER_MINOR: u32 = 2; // 1.2: xxh32-aligned-block; ops of 1.1 this build does not know are refused by tag

export const HASH_XXH32_BLOCK: u32 = 1;         // HashAlgorithm.XXH32Block (1.1)
export const HASH_XXH32_ALIGNED_BLOCK: u32 = 2; // HashAlgorithm.XXH32AlignedBlock (1.2)
export const RUN_ALIGN: u32 = 4;                // its run starts and Z are multiples of 4
export const MAX_BLOCK: u32 = 32;       // one sign bit per offset of a block, from one 32-bit pattern
export const MAX_ALIGNED_BLOCK: u32 = 64; // xxh32-aligned-block: two halves of 32, a pattern each


export class Weight {
  shape: StaticArray<i32> = new StaticArray<i32>(0); // virtual shape
  size: i32 = 0;          // product(shape)
  rows: i32 = 0;          // key layout: shape[0] ...
  cols: i32 = 0;          // ... by the product of the rest
  hashed: bool = false;
  bucketSeed: u32 = 0;
  signSeed: u32 = 0;
  signed: bool = true;
  block: i32 = 1;         // columns per hash: Z of xxh32-block, 1 for per-element xxh32 (the same map)
  aligned: bool = false;  // xxh32-aligned-block: runs start on multiples of 4, σ is bit 0 of the bucket hash
  count: u32 = 0;         // stored values: K buckets, or `size` plain values
  dtype: i32 = DT_FLOAT32;
  scale: f32 = 1;         // int8 and int4 only
  dataPos: u32 = 0;       // position of the stored bytes in the file (valid during load)
  stored: usize = 0;      // owned copy of the stored bytes (streaming, hashed); else 0
  dense: usize = 0;       // owned f32 virtual tensor (plain weights, biases, materialized); else 0
}

export class Node {
  name: string = "";
  op: i32 = 0;
  inputs: StaticArray<i32> = new StaticArray<i32>(0);
  input0: i32 = -1;       // inputs[0]; -1 for Constant
  input1: i32 = -1;       // inputs[1] of the two-input ops (Add, Mul, Sub, Div, MatMul); else -1
  output: i32 = -1;
  weight: Weight | null = null; // Dense, Conv2D, ConvTranspose: the weight; Constant: its value (may stream)
  bias: Weight | null = null;   // always f32
  scale: Weight | null = null;  // LayerNorm: always f32
  // Conv2D and pools: kernel, strides, pads [top, left, bottom, right], dilations.
  kh: i32 = 1; kw: i32 = 1;
  sh: i32 = 1; sw: i32 = 1;
  pt: i32 = 0; pl: i32 = 0; pb: i32 = 0; pr: i32 = 0;
  dh: i32 = 1; dw: i32 = 1;
  group: i32 = 1;
  ceilMode: bool = false;
  countIncludePad: bool = false;
  alpha: f32 = 0.01;      // LeakyRelu
  axis: i32 = 0;          // Softmax, LogSoftmax, Flatten
  epsilon: f32 = 1e-5;    // BatchNorm
  bnScale: StaticArray<f32> = new StaticArray<f32>(0);
  bnBias: StaticArray<f32> = new StaticArray<f32>(0);
  bnMean: StaticArray<f32> = new StaticArray<f32>(0);
  bnVariance: StaticArray<f32> = new StaticArray<f32>(0);
  reshape: StaticArray<i64> = new StaticArray<i64>(0); // Reshape's shape, Expand's shape
  // 1.1
  oph: i32 = 0; opw: i32 = 0; // ConvTranspose output_padding
  axes: StaticArray<i32> = new StaticArray<i32>(0); // Reduce*, Squeeze, Unsqueeze, Slice (filled in), Transpose's perm
  allAxes: bool = false;  // Reduce*: axes absent = every axis
  keepdims: bool = true;
  starts: StaticArray<i64> = new StaticArray<i64>(0); // Slice
  ends: StaticArray<i64> = new StaticArray<i64>(0);
  steps: StaticArray<i64> = new StaticArray<i64>(0);  // Slice (filled in)
  padding: StaticArray<i64> = new StaticArray<i64>(0); // Pad: [begins..., ends...]
  value: f32 = 0;         // Pad
  lo: f32 = -Infinity;    // Clip bounds (absent: no bound)
  hi: f32 = Infinity;
  beta: f32 = 0.5;        // HardSigmoid (alpha in alpha)
  exponent: f32 = 1;      // Pow
  tanhApproximation: bool = false; // Gelu
  mode: i32 = 0; coordinates: i32 = 0; nearest: i32 = 0; // Resize
  scaleH: f32 = 1; scaleW: f32 = 1;

  describe(index: i32): string {
    return "node " + index.toString() + " (" + OP_NAMES[this.op] + (this.name.length > 0 ? " '" + this.name + "'" : "") + ")";
  }
}

export class Model {
  tensorNames: string[] = [];
  tensorShapes: Array<StaticArray<i64>> = []; // declared shapes (empty when absent)
  inputs: StaticArray<i32> = new StaticArray<i32>(0);
  outputs: StaticArray<i32> = new StaticArray<i32>(0);
  nodes: Node[] = [];
}

/** Bytes of `count` stored values of a dtype (int4: two per byte, rounded up). */
export function storedBytes(dtype: i32, count: u32): u64 {
  if (dtype == DT_INT4) return (<u64>count + 1) >> 1;
  return <u64>count * (dtype == DT_FLOAT32 ? 4 : dtype == DT_FLOAT16 ? 2 : 1);
}

/** Reads a vector of u32 that must have `expected` entries (any length when expected < 0). */
function readU32s(r: Reader, table: u32, id: i32, expected: i32, what: string, required: bool): StaticArray<i32> {
  const v = r.vector(table, id, 4, what, required);
  if (failed() || !r.charge(<u64>v.length * 4, what)) return new StaticArray<i32>(0);
  if (expected >= 0 && v.length != 0 && v.length != <u32>expected) {
    fail(E_INVALID, what + " has " + v.length.toString() + " entries, expected " + expected.toString());
    return new StaticArray<i32>(0);
  }
  const out = new StaticArray<i32>(v.length);
  for (let i: u32 = 0; i < v.length; i++) {
    const x = r.u32(v.start + 4 * i, what);
    if (<i64>x > MAX_DIMENSION) {
      fail(E_INVALID, what + "[" + i.toString() + "] = " + x.toString() + " is too large");
      return new StaticArray<i32>(0);
    }
    out[i] = <i32>x;
  }
  return out;
}

/**
 * Reads a vector of i32 axes (negative counts from the end): at most the rank
 * cap, none twice as written, at least one when `required` or present.
 */
function readAxes(r: Reader, table: u32, id: i32, what: string, required: bool): StaticArray<i32> {
  const v = r.vector(table, id, 4, what, required);
  if (failed() || !r.charge(<u64>v.length * 4, what)) return new StaticArray<i32>(0);
  if (v.length > <u32>MAX_RANK) { fail(E_INVALID, what + " has " + v.length.toString() + " entries, more than the rank cap " + MAX_RANK.toString()); return new StaticArray<i32>(0); }
  if (required && v.length == 0 && !failed()) { fail(E_INVALID, what + " needs at least one axis"); return new StaticArray<i32>(0); }
  const out = new StaticArray<i32>(v.length);
  for (let i: u32 = 0; i < v.length && !failed(); i++) {
    out[i] = r.i32(v.start + 4 * i, what);
    for (let k: u32 = 0; k < i; k++) {
      if (out[k] == out[i]) { fail(E_INVALID, what + "[" + i.toString() + "]: axis " + out[i].toString() + " is listed twice"); break; }
    }
  }
  return out;
}

/** A finite f32 field, or an error naming it. */
function finiteF32(r: Reader, table: u32, id: i32, dflt: f32, what: string): f32 {
  const v = r.fieldF32(table, id, dflt, what);
  if (!isFinite(v)) fail(E_INVALID, what + " = " + v.toString() + ", expected a finite number");
  return v;
}

function readF32s(r: Reader, table: u32, id: i32, what: string): StaticArray<f32> {
  const v = r.vector(table, id, 4, what, true);
  if (!r.charge(<u64>v.length * 4, what)) return new StaticArray<f32>(0);
  const out = new StaticArray<f32>(v.length);
  for (let i: u32 = 0; i < v.length && !failed(); i++) out[i] = r.f32(v.start + 4 * i, what);
  return out;
}

function readI64s(r: Reader, table: u32, id: i32, what: string, required: bool): StaticArray<i64> {
  const v = r.vector(table, id, 8, what, required);
  if (!r.charge(<u64>v.length * 8, what)) return new StaticArray<i64>(0);
  const out = new StaticArray<i64>(v.length);
  for (let i: u32 = 0; i < v.length && !failed(); i++) out[i] = r.i64(v.start + 8 * i, what);
  return out;
}

function readWeight(r: Reader, table: u32, what: string): Weight {
  const w = new Weight();
  const shape = readU32s(r, table, 0, -1, what + ".shape", true);
  if (failed()) return w;
  if (shape.length == 0 || shape.length > MAX_RANK) {
    fail(E_INVALID, what + ".shape has rank " + shape.length.toString() + ", expected 1.." + MAX_RANK.toString());
    return w;
  }
  let size: i64 = 1;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] < 1) { fail(E_INVALID, what + ".shape[" + i.toString() + "] = 0, expected >= 1"); return w; }
    size *= shape[i];
    if (size > MAX_ELEMENTS) { fail(E_INVALID, what + ".shape has more than 2^28 elements"); return w; }
  }
  w.shape = shape;
  w.size = <i32>size;
  w.rows = shape[0];
  w.cols = <i32>(size / shape[0]);

  const hash = r.table(table, 1, what + ".hash", false);
  if (failed()) return w;
  if (hash != 0) {
    w.hashed = true;
    const algorithm = r.fieldU8(hash, 0, 0, what + ".hash.algorithm");
    if (algorithm > HASH_XXH32_ALIGNED_BLOCK) { fail(E_VERSION, what + ".hash.algorithm = " + algorithm.toString() + " is unknown (0 XXH32, 1 XXH32Block, 2 XXH32AlignedBlock); the file may need a newer runtime"); return w; }
    w.bucketSeed = r.fieldU32(hash, 1, 0, what + ".hash.bucket_seed");
    w.signSeed = r.fieldU32(hash, 2, 0, what + ".hash.sign_seed");
    w.signed = r.fieldU8(hash, 3, 1, what + ".hash.signed") != 0;
    const block = r.fieldU32(hash, 4, 0, what + ".hash.block");
    if (failed()) return w;
    if (algorithm == HASH_XXH32_BLOCK) {
      if (block < 1 || block > MAX_BLOCK) { fail(E_INVALID, what + ".hash.block = " + block.toString() + ": xxh32-block needs a block of 1..32 columns"); return w; }
      w.block = <i32>block;
    } else if (algorithm == HASH_XXH32_ALIGNED_BLOCK) {
      if (block < RUN_ALIGN || block > MAX_ALIGNED_BLOCK || block % RUN_ALIGN != 0) { fail(E_INVALID, what + ".hash.block = " + block.toString() + ": xxh32-aligned-block needs a block of 4, 8, .., 64 columns"); return w; }
      w.block = <i32>block;
      w.aligned = true;
    } else if (block != 0) { fail(E_INVALID, what + ".hash.block = " + block.toString() + " is set, but block is only for xxh32-block and xxh32-aligned-block"); return w; }
  }

  const values = r.table(table, 2, what + ".values", true);
  if (failed()) return w;
  const dtype = <i32>r.fieldU8(values, 0, 0, what + ".values.dtype");
  if (dtype > DT_INT4) { fail(E_VERSION, what + ".values.dtype = " + dtype.toString() + " is unknown (0 float32, 1 float16, 2 int8, 3 int4); the file may need a newer runtime"); return w; }
  w.dtype = dtype;
  w.count = r.fieldU32(values, 1, 0, what + ".values.count");
  w.scale = r.fieldF32(values, 2, 1.0, what + ".values.scale");
  const data = r.vector(values, 3, 1, what + ".values.data", true);
  if (failed()) return w;
  if (w.count == 0) { fail(E_INVALID, what + ".values.count = 0, expected > 0"); return w; }
  if (<u64>data.length != storedBytes(dtype, w.count)) {
    fail(E_INVALID, what + ".values.data has " + data.length.toString() + " bytes, expected " +
      storedBytes(dtype, w.count).toString() + " for " + w.count.toString() + " values");
    return w;
  }
  if ((dtype == DT_INT8 || dtype == DT_INT4) && !(w.scale > 0 && isFinite(w.scale))) {
    fail(E_INVALID, what + ".values.scale = " + w.scale.toString() + ", expected > 0 and finite");
    return w;
  }
  if (dtype == DT_INT4) {
    // An odd count leaves the last high nibble unused: it must be 0, so that every int4 array has one encoding.
    if ((w.count & 1) != 0 && (<u32>load<u8>(r.ptr + data.start + (w.count >> 1)) >> 4) != 0) {
      fail(E_INVALID, what + ".values.data: the unused high nibble after int4 value " + (w.count - 1).toString() + " must be 0");
      return w;
    }
    // -8 fits in four bits but not in the format's symmetric range [-7, 7].
    for (let i: u32 = 0; i < w.count; i++) {
      if (((<u32>load<u8>(r.ptr + data.start + (i >> 1)) >> ((i & 1) << 2)) & 0xf) == 8) {
        fail(E_INVALID, what + ".values.data: int4 value " + i.toString() + " is -8, outside [-7, 7]");
        return w;
      }
    }
  }
  // More buckets than virtual values would store more than the plain weight.
  if (w.hashed && w.count > <u32>w.size) {
    fail(E_INVALID, what + ".values.count = " + w.count.toString() + ": K exceeds the virtual size " + w.size.toString() + " of the hashed weight; store it plain");
    return w;
  }
  if (!w.hashed && w.count != <u32>w.size) {
    fail(E_INVALID, what + ": a plain weight of " + w.size.toString() + " elements stores " + w.count.toString() + " values");
    return w;
  }
  w.dataPos = data.start;
  return w;
}

/**
 * Window geometry (kernel, strides, pads, dilations) above 2^28 is refused:
 * no tensor is that large, and the kernels' index arithmetic stays in i32.
 */
function checkGeometry(values: StaticArray<i32>, min: i32, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min || <i64>values[i] > MAX_GEOMETRY) {
      fail(E_INVALID, what + "[" + i.toString() + "] = " + values[i].toString() + ", expected " + min.toString() + "..2^28");
      return;
    }
  }
}

function readPads(r: Reader, table: u32, id: i32, n: Node, what: string): void {
  const pads = readU32s(r, table, id, 4, what, false);
  checkGeometry(pads, 0, what);
  if (pads.length == 4) { n.pt = pads[0]; n.pl = pads[1]; n.pb = pads[2]; n.pr = pads[3]; }
}

function readPair(r: Reader, table: u32, id: i32, what: string, required: bool): StaticArray<i32> {
  const pair = readU32s(r, table, id, 2, what, required);
  checkGeometry(pair, 1, what);
  return pair;
}

/** The fields 0–4 that Conv2D and ConvTranspose share: weight, bias, strides, pads, dilations. */
function readConvFields(r: Reader, op: u32, n: Node, what: string): void {
  n.weight = readWeight(r, r.table(op, 0, what + ".weight", true), what + ".weight");
  const bias = r.table(op, 1, what + ".bias", false);
  if (bias != 0) n.bias = readWeight(r, bias, what + ".bias");
  const strides = readPair(r, op, 2, what + ".strides", false);
  if (strides.length == 2) { n.sh = strides[0]; n.sw = strides[1]; }
  readPads(r, op, 3, n, what + ".pads");
  const dilations = readPair(r, op, 4, what + ".dilations", false);
  if (dilations.length == 2) { n.dh = dilations[0]; n.dw = dilations[1]; }
}

/** A convolution's group (field `id`): an integer >= 1. */
function readGroup(r: Reader, op: u32, id: i32, n: Node, what: string): void {
  const group = r.fieldU32(op, id, 1, what + ".group");
  if (failed()) return;
  if (group < 1 || <i64>group > MAX_DIMENSION) { fail(E_INVALID, what + ".group = " + group.toString() + ", expected >= 1"); return; }
  n.group = <i32>group;
}

function readOp(r: Reader, op: u32, n: Node, what: string): void {
  switch (n.op) {
    case OP_DENSE: {
      n.weight = readWeight(r, r.table(op, 0, what + ".weight", true), what + ".weight");
      const bias = r.table(op, 1, what + ".bias", false);
      if (bias != 0) n.bias = readWeight(r, bias, what + ".bias");
      break;
    }
    case OP_CONV2D: {
      readConvFields(r, op, n, what);
      readGroup(r, op, 5, n, what);
      break;
    }
    case OP_LEAKYRELU:
      n.alpha = r.fieldF32(op, 0, 0.01, what + ".alpha");
      if (!isFinite(n.alpha)) fail(E_INVALID, what + ".alpha = " + n.alpha.toString() + ", expected a finite number");
      break;
    case OP_SOFTMAX:
    case OP_LOGSOFTMAX:
      n.axis = r.fieldI32(op, 0, -1, what + ".axis");
      break;
    case OP_FLATTEN:
      n.axis = r.fieldI32(op, 0, 1, what + ".axis");
      break;
    case OP_RESHAPE: {
      n.reshape = readI64s(r, op, 0, what + ".shape", true);
      if (!failed() && n.reshape.length == 0) fail(E_INVALID, what + ".shape is empty");
      let inferred = 0;
      for (let i = 0; i < n.reshape.length && !failed(); i++) {
        const d = n.reshape[i];
        if (d == -1) inferred++;
        if (d < -1 || d > MAX_ELEMENTS) fail(E_INVALID, what + ".shape[" + i.toString() + "] = " + d.toString() + " is not allowed");
      }
      if (inferred > 1) fail(E_INVALID, what + ".shape has more than one -1");
      if (n.reshape.length > MAX_RANK) fail(E_INVALID, what + ".shape has rank above " + MAX_RANK.toString());
      break;
    }
    case OP_MAXPOOL:
    case OP_AVERAGEPOOL: {
      const kernel = readPair(r, op, 0, what + ".kernel", true);
      if (failed()) break;
      if (kernel.length != 2) { fail(E_INVALID, what + ".kernel has " + kernel.length.toString() + " entries, expected 2"); break; }
      n.kh = kernel[0]; n.kw = kernel[1];
      const strides = readPair(r, op, 1, what + ".strides", false);
      if (strides.length == 2) { n.sh = strides[0]; n.sw = strides[1]; }
      readPads(r, op, 2, n, what + ".pads");
      if (n.op == OP_MAXPOOL) {
        const dilations = readPair(r, op, 3, what + ".dilations", false);
        if (dilations.length == 2) { n.dh = dilations[0]; n.dw = dilations[1]; }
        n.ceilMode = r.fieldU8(op, 4, 0, what + ".ceil_mode") != 0;
      } else {
        n.ceilMode = r.fieldU8(op, 3, 0, what + ".ceil_mode") != 0;
        n.countIncludePad = r.fieldU8(op, 4, 0, what + ".count_include_pad") != 0;
      }
      if (n.pt >= n.kh || n.pb >= n.kh || n.pl >= n.kw || n.pr >= n.kw) {
        fail(E_INVALID, what + ".pads: padding must be smaller than the kernel");
      }
      break;
    }
    case OP_BATCHNORM: {
      n.bnScale = readF32s(r, op, 0, what + ".scale");
      n.bnBias = readF32s(r, op, 1, what + ".bias");
      n.bnMean = readF32s(r, op, 2, what + ".mean");
      n.bnVariance = readF32s(r, op, 3, what + ".variance");
      n.epsilon = r.fieldF32(op, 4, 1e-5, what + ".epsilon");
      if (failed()) break;
      if (!(n.epsilon >= 0)) { fail(E_INVALID, what + ".epsilon = " + n.epsilon.toString() + ", expected >= 0"); break; }
      const c = n.bnScale.length;
      if (c == 0 || n.bnBias.length != c || n.bnMean.length != c || n.bnVariance.length != c) {
        fail(E_INVALID, what + ": scale, bias, mean and variance must have the same non-zero length");
      }
      break;
    }
    // ---- 1.1 ----
    case OP_CONSTANT:
      n.weight = readWeight(r, r.table(op, 0, what + ".value", true), what + ".value");
      break;
    case OP_CONCAT:
      n.axis = r.fieldI32(op, 0, 0, what + ".axis");
      break;
    case OP_SLICE: {
      n.starts = readI64s(r, op, 0, what + ".starts", true);
      n.ends = readI64s(r, op, 1, what + ".ends", true);
      const hasAxes = r.field(op, 2, what + ".axes") != 0;
      const axes = readAxes(r, op, 2, what + ".axes", hasAxes);
      const hasSteps = r.field(op, 3, what + ".steps") != 0;
      const steps = readI64s(r, op, 3, what + ".steps", false);
      if (failed()) break;
      const count = n.starts.length;
      if (count == 0 || count > MAX_RANK) { fail(E_INVALID, what + ".starts has " + count.toString() + " entries, expected 1.." + MAX_RANK.toString()); break; }
      if (n.ends.length != count) { fail(E_INVALID, what + ".ends has " + n.ends.length.toString() + " entries, expected " + count.toString() + " (as starts)"); break; }
      if (hasAxes && axes.length != count) { fail(E_INVALID, what + ".axes has " + axes.length.toString() + " entries, expected " + count.toString() + " (as starts)"); break; }
      if (hasSteps && steps.length != count) { fail(E_INVALID, what + ".steps has " + steps.length.toString() + " entries, expected " + count.toString() + " (as starts)"); break; }
      n.axes = new StaticArray<i32>(count);
      n.steps = new StaticArray<i64>(count);
      for (let k = 0; k < count; k++) {
        // ±2^53: the integers a JavaScript number (the format library's) holds exactly
        if (abs(n.starts[k]) > SAFE_INTEGER || abs(n.ends[k]) > SAFE_INTEGER || (hasSteps && abs(steps[k]) > SAFE_INTEGER)) {
          fail(E_INVALID, what + ": starts, ends and steps must be integers within ±2^53 (entry " + k.toString() + ")");
          break;
        }
        n.axes[k] = hasAxes ? axes[k] : k;
        n.steps[k] = hasSteps ? steps[k] : 1;
        if (n.steps[k] == 0) { fail(E_INVALID, what + ".steps[" + k.toString() + "] = 0, expected a non-zero step"); break; }
      }
      break;
    }
    case OP_CLIP:
      if (r.field(op, 0, what + ".min") != 0) n.lo = r.fieldF32(op, 0, 0, what + ".min");
      if (r.field(op, 1, what + ".max") != 0) n.hi = r.fieldF32(op, 1, 0, what + ".max");
      if (!isFinite(n.lo) && r.field(op, 0, what + ".min") != 0) fail(E_INVALID, what + ".min = " + n.lo.toString() + ", expected a finite number");
      if (!isFinite(n.hi) && r.field(op, 1, what + ".max") != 0) fail(E_INVALID, what + ".max = " + n.hi.toString() + ", expected a finite number");
      break;
    case OP_HARDSIGMOID:
      n.alpha = finiteF32(r, op, 0, 0.2, what + ".alpha");
      n.beta = finiteF32(r, op, 1, 0.5, what + ".beta");
      break;
    case OP_POW:
      n.exponent = finiteF32(r, op, 0, 0, what + ".exponent");
      break;
    case OP_REDUCEMEAN:
    case OP_REDUCESUM:
    case OP_REDUCEMAX:
      n.allAxes = r.field(op, 0, what + ".axes") == 0;
      n.axes = readAxes(r, op, 0, what + ".axes", !n.allAxes); // all axes is an absent vector, never an empty one
      n.keepdims = r.fieldU8(op, 1, 1, what + ".keepdims") != 0;
      break;
    case OP_TRANSPOSE: {
      const perm = readU32s(r, op, 0, -1, what + ".perm", true);
      if (failed()) break;
      if (perm.length == 0 || perm.length > MAX_RANK) { fail(E_INVALID, what + ".perm has " + perm.length.toString() + " entries, expected 1.." + MAX_RANK.toString()); break; }
      const seen = new StaticArray<bool>(perm.length);
      for (let k = 0; k < perm.length; k++) {
        if (perm[k] >= perm.length || seen[perm[k]]) { fail(E_INVALID, what + ".perm = " + shapeText(perm) + " is not a permutation of 0.." + (perm.length - 1).toString()); break; }
        seen[perm[k]] = true;
      }
      n.axes = perm;
      break;
    }
    case OP_LAYERNORM: {
      n.axis = r.fieldI32(op, 0, -1, what + ".axis");
      n.epsilon = r.fieldF32(op, 1, 1e-5, what + ".epsilon");
      n.scale = readWeight(r, r.table(op, 2, what + ".scale", true), what + ".scale");
      const bias = r.table(op, 3, what + ".bias", false);
      if (bias != 0) n.bias = readWeight(r, bias, what + ".bias");
      if (!failed() && !(n.epsilon >= 0 && isFinite(n.epsilon))) fail(E_INVALID, what + ".epsilon = " + n.epsilon.toString() + ", expected >= 0 and finite");
      break;
    }
    case OP_GELU:
      n.tanhApproximation = r.fieldU8(op, 0, 0, what + ".tanh_approximation") != 0;
      break;
    case OP_SQUEEZE:
    case OP_UNSQUEEZE:
      n.axes = readAxes(r, op, 0, what + ".axes", true);
      break;
    case OP_PAD: {
      n.padding = readI64s(r, op, 0, what + ".pads", true);
      n.value = r.fieldF32(op, 1, 0, what + ".value");
      if (failed()) break;
      if (isNaN(n.value)) { fail(E_INVALID, what + ".value is NaN, expected a number"); break; }
      if (n.padding.length == 0 || (n.padding.length & 1) != 0 || n.padding.length > 2 * MAX_RANK) {
        fail(E_INVALID, what + ".pads has " + n.padding.length.toString() + " entries, expected 2 per axis");
        break;
      }
      for (let k = 0; k < n.padding.length; k++) {
        if (n.padding[k] < 0 || n.padding[k] > MAX_GEOMETRY) { fail(E_INVALID, what + ".pads[" + k.toString() + "] = " + n.padding[k].toString() + ", expected 0..2^28"); break; }
      }
      break;
    }
    case OP_RESIZE: {
      n.mode = <i32>r.fieldU8(op, 0, 0, what + ".mode");
      n.coordinates = <i32>r.fieldU8(op, 1, 0, what + ".coordinates");
      n.nearest = <i32>r.fieldU8(op, 2, 0, what + ".nearest");
      const scales = readF32s(r, op, 3, what + ".scales");
      if (failed()) break;
      if (n.mode > RESIZE_LINEAR) { fail(E_INVALID, what + ".mode = " + n.mode.toString() + " is unknown (0 nearest, 1 linear)"); break; }
      if (n.coordinates > COORD_PYTORCH_HALF_PIXEL) { fail(E_INVALID, what + ".coordinates = " + n.coordinates.toString() + " is unknown (0..3)"); break; }
      if (n.nearest > ROUND_CEIL) { fail(E_INVALID, what + ".nearest = " + n.nearest.toString() + " is unknown (0..3)"); break; }
      if (scales.length != 2) { fail(E_INVALID, what + ".scales has " + scales.length.toString() + " entries, expected 2 [scale_h, scale_w]"); break; }
      for (let k = 0; k < 2; k++) {
        if (!(scales[k] > 0 && <f64>scales[k] <= <f64>MAX_GEOMETRY)) { fail(E_INVALID, what + ".scales[" + k.toString() + "] = " + scales[k].toString() + ", expected > 0 and at most 2^28"); break; }
      }
      n.scaleH = scales[0]; n.scaleW = scales[1];
      break;
    }
    case OP_CONVTRANSPOSE: {
      readConvFields(r, op, n, what);
      const outputPadding = readU32s(r, op, 5, 2, what + ".output_padding", false);
      checkGeometry(outputPadding, 0, what + ".output_padding");
      if (outputPadding.length == 2) { n.oph = outputPadding[0]; n.opw = outputPadding[1]; }
      readGroup(r, op, 6, n, what);
      if (failed()) break;
      if (n.oph >= max(n.sh, n.dh) || n.opw >= max(n.sw, n.dw)) {
        fail(E_INVALID, what + ".output_padding = [" + n.oph.toString() + ", " + n.opw.toString() + "] must be smaller than the stride or the dilation");
      }
      break;
    }
    case OP_EXPAND: {
      n.reshape = readI64s(r, op, 0, what + ".shape", true);
      if (failed()) break;
      let batchDims = 0;
      for (let k = 0; k < n.reshape.length; k++) if (n.reshape[k] == -1) batchDims++;
      if (batchDims > 1) { fail(E_INVALID, what + ".shape has more than one -1: the batch is one dimension"); break; }
      if (n.reshape.length == 0 || n.reshape.length > MAX_RANK) { fail(E_INVALID, what + ".shape has rank " + n.reshape.length.toString() + ", expected 1.." + MAX_RANK.toString()); break; }
      for (let k = 0; k < n.reshape.length; k++) {
        const d = n.reshape[k];
        if (d != -1 && (d < 1 || d > MAX_ELEMENTS)) { fail(E_INVALID, what + ".shape[" + k.toString() + "] = " + d.toString() + ", expected -1 (the batch) or 1..2^28"); break; }
      }
      break;
    }
    default:
      break; // Relu, Sigmoid, Tanh, GlobalAveragePool, Add, HardSwish, Mul, Sub, Div, Sqrt, Exp, Erf, Neg, MatMul, GlobalMaxPool: no fields
  }
}

function shapeText(values: StaticArray<i32>): string {
  let out = "[";
  for (let i = 0; i < values.length; i++) out += (i > 0 ? ", " : "") + values[i].toString();
  return out + "]";
}

/** How many inputs an op takes: -1 for "one or more" (Concat). */
function arityOf(op: i32): i32 {
  if (op == OP_CONSTANT) return 0;
  if (op == OP_CONCAT) return -1;
  if (op == OP_ADD || op == OP_MUL || op == OP_SUB || op == OP_DIV || op == OP_MATMUL) return 2;
  return 1;
}

function tensorIndex(r: Reader, v: Vec, i: u32, tensorCount: i32, what: string): i32 {
  const t = r.u32(v.start + 4 * i, what);
  if (failed()) return -1;
  if (t >= <u32>tensorCount) {
    fail(E_INVALID, what + "[" + i.toString() + "] = " + t.toString() + " is not a tensor index (" + tensorCount.toString() + " tensors)");
    return -1;
  }
  return <i32>t;
}

/** Parses and validates a model. Returns null (and records an error) on any failure. */
export function parseModel(ptr: usize, size: u32): Model | null {
  const r = new Reader(ptr, size);
  if (size == 0) { fail(E_IDENTIFIER, "the file is empty (0 bytes); an .hnet file has at least 8"); return null; }
  if (size < 8) { fail(E_IDENTIFIER, "the file has " + size.toString() + " bytes; an .hnet file has at least 8"); return null; }
  // Identifier first: a wrong file should say so, not "corrupt offset".
  const id = load<u32>(ptr + 4);
  if (id != 0x54454e48) { // "HNET" little-endian
    fail(E_IDENTIFIER, "bytes 4..8 are not the identifier \"HNET\"; this is not an .hnet file");
    return null;
  }
  const root = r.deref(0, "root table offset");
  if (failed()) return null;

  // Version next, before anything whose meaning could depend on it.
  const vpos = r.field(root, 0, "Model.format_version");
  if (failed()) return null;
  if (vpos == 0) { fail(E_INVALID, "Model.format_version is required but absent"); return null; }
  const major = r.u16(vpos, "Model.format_version");
  const minor = r.u16(vpos + 2, "Model.format_version");
  if (failed()) return null;
  if (major != READER_MAJOR) {
    fail(E_VERSION, "format version " + major.toString() + "." + minor.toString() + " has major version " +
      major.toString() + "; this runtime reads major version " + READER_MAJOR.toString());
    return null;
  }
  const mpos = r.field(root, 1, "Model.min_reader_version");
  if (failed()) return null;
  if (mpos == 0) { fail(E_INVALID, "Model.min_reader_version is required but absent"); return null; }
  const minMajor = r.u16(mpos, "Model.min_reader_version");
  const minMinor = r.u16(mpos + 2, "Model.min_reader_version");
  if (failed()) return null;
  if (minMajor != READER_MAJOR || minMinor > READER_MINOR) {
    fail(E_VERSION, "the file needs a reader of version " + minMajor.toString() + "." + minMinor.toString() +
      " or newer; this runtime is " + READER_MAJOR.toString() + "." + READER_MINOR.toString() + ": update the runtime");
    return null;
  }

  const m = new Model();
  // Tensors: names and declared shapes.
  const tensors = r.vector(root, 2, 4, "Model.tensors", true);
  if (failed()) return null;
  const tensorCount = <i32>tensors.length;
  const names = new Set<string>();
  for (let i: u32 = 0; i < tensors.length; i++) {
    const what = "tensors[" + i.toString() + "]";
    const t = r.tableAt(tensors, i, what);
    const name = r.string(t, 0, what + ".name", true);
    const shape = readI64s(r, t, 1, what + ".shape", false);
    if (failed()) return null;
    if (name.length == 0) { fail(E_INVALID, what + ".name is empty"); return null; }
    if (names.has(name)) { fail(E_INVALID, what + ".name '" + name + "' is not unique"); return null; }
    names.add(name);
    if (shape.length > MAX_RANK) { fail(E_INVALID, what + ".shape has rank above " + MAX_RANK.toString()); return null; }
    for (let d = 0; d < shape.length; d++) {
      if (shape[d] < -1 || shape[d] == 0 || shape[d] > MAX_ELEMENTS) {
        fail(E_INVALID, what + ".shape[" + d.toString() + "] = " + shape[d].toString() + ", expected -1 (the batch) or 1..2^28");
        return null;
      }
    }
    m.tensorNames.push(name);
    m.tensorShapes.push(shape);
  }

  // Graph inputs and outputs: tensor indices, each with a shape.
  for (let io = 0; io < 2; io++) {
    const what = io == 0 ? "Model.inputs" : "Model.outputs";
    const v = r.vector(root, 3 + io, 4, what, true);
    if (failed()) return null;
    const list = new StaticArray<i32>(v.length);
    const listed = new StaticArray<bool>(tensorCount); // a flag per tensor: a scan per entry would be quadratic
    for (let i: u32 = 0; i < v.length; i++) {
      const t = tensorIndex(r, v, i, tensorCount, what);
      if (failed()) return null;
      if (m.tensorShapes[t].length == 0) {
        fail(E_INVALID, what + "[" + i.toString() + "]: tensor '" + m.tensorNames[t] + "' has no shape");
        return null;
      }
      if (listed[t]) { fail(E_INVALID, what + " lists tensor '" + m.tensorNames[t] + "' twice"); return null; }
      // An input's -1 is the batch, one size for all (an output's -1 matches any size).
      if (io == 0) {
        let batchDims = 0;
        const shape = m.tensorShapes[t];
        for (let d = 0; d < shape.length; d++) if (shape[d] == -1) batchDims++;
        if (batchDims > 1) { fail(E_INVALID, what + "[" + i.toString() + "]: tensor '" + m.tensorNames[t] + "' has more than one -1; the batch is one dimension"); return null; }
      }
      listed[t] = true;
      list[i] = t;
    }
    if (io == 0) m.inputs = list; else m.outputs = list;
  }
  if (m.inputs.length == 0) { fail(E_INVALID, "Model.inputs is empty: a model needs at least one input"); return null; }
  let hasBatch = false;
  for (let i = 0; i < m.inputs.length; i++) {
    const shape = m.tensorShapes[m.inputs[i]];
    for (let d = 0; d < shape.length; d++) if (shape[d] == -1) hasBatch = true;
  }
  if (m.outputs.length == 0) { fail(E_INVALID, "Model.outputs is empty: a model needs at least one output"); return null; }

  // Nodes, in topological order: each input must exist before it is used,
  // each tensor is produced once.
  const available = new StaticArray<bool>(tensorCount);
  for (let i = 0; i < m.inputs.length; i++) available[m.inputs[i]] = true;
  const nodes = r.vector(root, 5, 4, "Model.nodes", true);
  if (failed()) return null;
  for (let i: u32 = 0; i < nodes.length; i++) {
    const what = "nodes[" + i.toString() + "]";
    const t = r.tableAt(nodes, i, what);
    const n = new Node();
    n.name = r.string(t, 0, what + ".name", false);
    const opType = <i32>r.fieldU8(t, 1, 0, what + ".op_type");
    const op = r.table(t, 2, what + ".op", true);
    // The op table's vtable is checked for every op, as @hnet/format's decode does: an op without
    // fields (Relu, Sub...) never reads one otherwise, and a corrupt table would load.
    r.field(op, 0, what + ".op");
    if (failed()) return null;
    if (opType < 1 || opType > OP_LAST) {
      fail(E_VERSION, what + ".op has union type " + opType.toString() + ", this runtime knows 1.." + OP_LAST.toString() + "; the file may need a newer runtime");
      return null;
    }
    // The op table's vtable is checked for every op, as @hnet/format does: an op without fields (Relu, Sub...)
    // would otherwise accept a corrupt table that the decoder refuses.
    r.field(op, 0, what + ".op");
    if (failed()) return null;
    n.op = opType;
    const desc = n.describe(<i32>i);
    readOp(r, op, n, desc);
    if (failed()) return null;
    if (n.op == OP_EXPAND && !hasBatch) {
      for (let k = 0; k < n.reshape.length; k++) {
        if (n.reshape[k] == -1) { fail(E_INVALID, desc + ".shape: -1 stands for the batch size, but no graph input has a batch dimension (-1)"); return null; }
      }
    }

    const ins = r.vector(t, 3, 4, desc + ".inputs", true);
    const outs = r.vector(t, 4, 4, desc + ".outputs", true);
    if (failed()) return null;
    const arity = arityOf(opType);
    if (arity >= 0 ? ins.length != <u32>arity : ins.length == 0) {
      fail(E_INVALID, desc + " has " + ins.length.toString() + " inputs, expected " + (arity >= 0 ? arity.toString() : "at least 1"));
      return null;
    }
    if (outs.length != 1) {
      fail(E_INVALID, desc + " has " + outs.length.toString() + " outputs, expected 1");
      return null;
    }
    // Each input takes 4 bytes of the file, so this is bounded by the file size.
    n.inputs = new StaticArray<i32>(ins.length);
    for (let k: u32 = 0; k < ins.length; k++) {
      const t = tensorIndex(r, ins, k, tensorCount, desc + ".inputs");
      if (failed()) return null;
      if (!available[t]) {
        fail(E_INVALID, desc + " reads tensor '" + m.tensorNames[t] +
          "' before any node produces it (nodes must be in topological order)");
        return null;
      }
      n.inputs[k] = t;
    }
    if (ins.length > 0) n.input0 = n.inputs[0];
    if (arity == 2) n.input1 = n.inputs[1];
    n.output = tensorIndex(r, outs, 0, tensorCount, desc + ".outputs");
    if (failed()) return null;
    if (available[n.output]) {
      fail(E_INVALID, desc + " produces tensor '" + m.tensorNames[n.output] + "', which is already produced or a graph input");
      return null;
    }
    available[n.output] = true;
    m.nodes.push(n);
  }
  // Metadata is not used to run, but a corrupt entry is still a corrupt file.
  const metadata = r.vector(root, 6, 4, "Model.metadata", false);
  for (let i: u32 = 0; i < metadata.length && !failed(); i++) {
    const kv = r.tableAt(metadata, i, "Model.metadata");
    // Read (and dropped) as @hnet/format reads it: counted, and valid UTF-8.
    r.string(kv, 0, "Model.metadata.key", true);
    r.string(kv, 1, "Model.metadata.value", false);
  }
  if (failed()) return null;
  for (let i = 0; i < m.outputs.length; i++) {
    if (!available[m.outputs[i]]) {
      fail(E_INVALID, "graph output '" + m.tensorNames[m.outputs[i]] + "' is produced by no node");
      return null;
    }
  }
  return m;
}
