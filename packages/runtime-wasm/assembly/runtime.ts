// A loaded model: its weights in the chosen mode, the arena planned for one
// batch size, and the run loop that walks the nodes in order.
//
// Memory, all of it planned before the first inference:
//   weights  plain weights and biases as f32; hashed weights either expanded
//            to f32 (materialized) or kept as stored buckets (streaming)
//   tile     streaming only: a few virtual weight rows (about 32 KiB), rebuilt
//            from the hash for each group of output units, once per run
//   arena    every tensor of the graph for the current batch size, with
//            buffers shared between tensors whose lifetimes do not overlap
// hnet_run allocates nothing; a new batch size re-plans the arena once.

import { E_BUDGET, E_MEMORY, E_SHAPE, fail } from "./errors";
import {
  Model, Node, Weight, MAX_ELEMENTS, MAX_RANK, DT_FLOAT32,
  OP_DENSE, OP_CONV2D, OP_RELU, OP_LEAKYRELU, OP_SIGMOID, OP_TANH, OP_SOFTMAX, OP_LOGSOFTMAX,
  OP_FLATTEN, OP_RESHAPE, OP_MAXPOOL, OP_AVERAGEPOOL, OP_GLOBALAVERAGEPOOL, OP_BATCHNORM, OP_ADD,
} from "./model";
import { ConvShape, convDirect, convGemm, convNaive, decodeValues, expandRow, gemm, gemmNaive, im2col, padCopy } from "./kernels";
import * as ops from "./ops";

export const MODE_AUTO: i32 = 0;
export const MODE_MATERIALIZED: i32 = 1;
export const MODE_STREAMING: i32 = 2;

/** Most work per example a model may ask for (multiply-adds): about a minute of one core. */
const MAX_WORK: f64 = 68719476736; // 2^36

/** Budget when the caller gives 0: 1 GiB. */
export const DEFAULT_BUDGET: u64 = 1 << 30;

/** Use the naive reference kernels (tests compare them with the fast ones). */
export let naiveKernels = false;
export function setNaiveKernels(on: bool): void { naiveKernels = on; }

function dtypeBytes(dtype: i32): u64 {
  return dtype == DT_FLOAT32 ? 4 : dtype == 1 ? 2 : 1;
}

function align16(x: u64): u64 {
  return (x + 15) & ~(<u64>15);
}

function shapeString(s: StaticArray<i32>): string {
  let out = "[";
  for (let i = 0; i < s.length; i++) out += (i > 0 ? ", " : "") + s[i].toString();
  return out + "]";
}

/** Output size of a sliding window along one axis (ONNX Conv / pools); -1 when the window does not fit. */
export function windowOut(size: i32, kernel: i32, stride: i32, padBegin: i32, padEnd: i32, dilation: i32, ceilMode: bool): i64 {
  const span = <i64>size + padBegin + padEnd - (<i64>(kernel - 1) * dilation + 1);
  if (span < 0) return -1;
  let out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // ceil_mode: the last window must start inside the input or the left padding
  if (ceilMode && (out - 1) * stride >= <i64>size + padBegin) out--;
  return out;
}

/** Bytes of memory the model's weights take in a mode (arena excluded). */
function weightBytes(m: Model, mode: i32): u64 {
  let total: u64 = 0;
  for (let i = 0; i < m.nodes.length; i++) {
    const n = m.nodes[i];
    const w = n.weight;
    if (w != null) {
      if (w.hashed && mode == MODE_STREAMING) total += align16(<u64>w.count * dtypeBytes(w.dtype));
      else total += align16(<u64>w.size * 4);
    }
    const b = n.bias;
    if (b != null) total += align16(<u64>b.size * 4);
  }
  return total;
}

/** Target size of the streaming tile (floats): 32 KiB, about an L1 cache. */
const TILE_TARGET: i32 = 8192;

/** Weight rows rebuilt per streaming tile: as many as fit the target, at least 2 (the gemm block). */
function tileRows(w: Weight): i32 {
  return min(w.rows, max(2, TILE_TARGET / w.cols));
}

/** Floats of the streaming tile: the largest tile of any hashed weight. */
function tileFloats(m: Model): i32 {
  let floats = 0;
  for (let i = 0; i < m.nodes.length; i++) {
    const w = m.nodes[i].weight;
    if (w != null && w.hashed) floats = max(floats, tileRows(w) * w.cols);
  }
  return floats;
}

export class Runtime {
  model: Model;
  mode: i32 = MODE_MATERIALIZED;
  budget: u64 = DEFAULT_BUDGET;
  blocks: usize[] = [];        // every heap block this runtime owns
  weightsBytes: u64 = 0;
  tile: usize = 0;             // streaming row buffer
  tileBytes: u64 = 0;
  // The plan for `batch`.
  batch: i32 = 0;
  shapes: Array<StaticArray<i32>> = [];
  sizes: StaticArray<i32> = new StaticArray<i32>(0);   // elements per tensor
  offsets: StaticArray<usize> = new StaticArray<usize>(0);
  arena: usize = 0;
  arenaBytes: u64 = 0;
  scratchOffset: usize = 0;    // im2col matrix of one image, at the end of the arena
  // Scratch for Add (broadcast strides) and the kernels' shape records, made once.
  addIndex: StaticArray<i32> = new StaticArray<i32>(MAX_RANK);
  conv: ConvShape = new ConvShape();
  pool: ops.PoolShape = new ops.PoolShape();
  addA: Array<StaticArray<i32>> = [];
  addB: Array<StaticArray<i32>> = [];
  addSame: StaticArray<bool> = new StaticArray<bool>(0);

  constructor(model: Model) {
    this.model = model;
  }

  alloc(bytes: u64): usize {
    const p = heap.alloc(<usize>max<u64>(bytes, 16));
    this.blocks.push(p);
    return p;
  }

  release(): void {
    for (let i = 0; i < this.blocks.length; i++) heap.free(this.blocks[i]);
    this.blocks.length = 0;
    if (this.arena != 0) heap.free(this.arena);
    this.arena = 0;
    this.batch = 0;
  }

  /**
   * Chooses the mode (auto: materialized when it fits the budget, else
   * streaming) and builds the weights from the file bytes at `file`.
   */
  loadWeights(file: usize, requested: i32, budget: u64): bool {
    const m = this.model;
    this.budget = budget == 0 ? DEFAULT_BUDGET : budget;
    // Shapes at batch 1 validate the graph and estimate the arena.
    if (!this.plan(1, false)) return false;
    const arena1 = this.arenaBytes;
    const tile = align16(<u64>tileFloats(m) * 4);
    const materialized = weightBytes(m, MODE_MATERIALIZED) + arena1;
    const streaming = weightBytes(m, MODE_STREAMING) + tile + arena1;
    let mode = requested;
    if (mode == MODE_AUTO) mode = materialized <= this.budget ? MODE_MATERIALIZED : MODE_STREAMING;
    const need = mode == MODE_MATERIALIZED ? materialized : streaming;
    if (need > this.budget) {
      fail(E_BUDGET, "the model needs " + need.toString() + " bytes " + (mode == MODE_MATERIALIZED ? "materialized" : "streaming") +
        " at batch 1 (materialized " + materialized.toString() + ", streaming " + streaming.toString() +
        "), over the memory budget of " + this.budget.toString() + " bytes");
      return false;
    }
    this.mode = mode;
    if (mode == MODE_STREAMING && tile > 0) { this.tile = this.alloc(tile); this.tileBytes = tile; }

    for (let i = 0; i < m.nodes.length; i++) {
      const n = m.nodes[i];
      const w = n.weight;
      if (w != null) this.buildWeight(file, w, mode);
      const b = n.bias;
      if (b != null) this.buildWeight(file, b, MODE_MATERIALIZED); // biases are small: always f32
    }
    this.weightsBytes = weightBytes(m, mode) + this.tileBytes;
    return true;
  }

  buildWeight(file: usize, w: Weight, mode: i32): void {
    const src = file + w.dataPos;
    if (!w.hashed) {
      w.dense = this.alloc(<u64>w.size * 4);
      decodeValues(src, w.dtype, w.scale, w.size, w.dense);
    } else if (mode == MODE_STREAMING) {
      const bytes = <u64>w.count * dtypeBytes(w.dtype);
      w.stored = this.alloc(bytes);
      memory.copy(w.stored, src, <usize>bytes);
    } else {
      w.dense = this.alloc(<u64>w.size * 4);
      const rowBytes = <usize>w.cols << 2;
      for (let r = 0; r < w.rows; r++) expandRow(w, src, r, w.dense + <usize>r * rowBytes);
    }
  }

  /** Rows r0 .. r0 + count of a weight as f32: a slice of the dense tensor, or rebuilt in the tile. */
  weightRows(w: Weight, r0: i32, count: i32): usize {
    const rowBytes = <usize>w.cols << 2;
    if (w.dense != 0) return w.dense + <usize>r0 * rowBytes;
    for (let r = 0; r < count; r++) expandRow(w, w.stored, r0 + r, this.tile + <usize>r * rowBytes);
    return this.tile;
  }

  /** How many weight rows one gemm call takes: all of them when materialized, a tile when streaming. */
  rowsPerCall(w: Weight): i32 {
    return w.dense != 0 ? w.rows : tileRows(w);
  }

  // ---- Shapes and the arena ------------------------------------------------

  inferShape(i: i32, n: Node, x: StaticArray<i32>, x1: StaticArray<i32> | null): StaticArray<i32> | null {
    const what = n.describe(i);
    const rank = x.length;
    let out: StaticArray<i32> = x;
    switch (n.op) {
      case OP_DENSE: {
        const w = n.weight!;
        if (rank != 2 || w.shape.length != 2 || x[1] != w.shape[1]) {
          fail(E_SHAPE, what + ": input " + shapeString(x) + " does not fit weight " + shapeString(w.shape) + " (expected [N, in], weight [out, in])");
          return null;
        }
        const b = n.bias;
        if (b != null && (b.shape.length != 1 || b.shape[0] != w.shape[0])) {
          fail(E_SHAPE, what + ": bias " + shapeString(b.shape) + " does not match " + w.shape[0].toString() + " outputs");
          return null;
        }
        out = new StaticArray<i32>(2);
        out[0] = x[0]; out[1] = w.shape[0];
        break;
      }
      case OP_CONV2D: {
        const w = n.weight!;
        if (rank != 4 || w.shape.length != 4 || w.shape[0] % n.group != 0 || <i64>x[1] != <i64>w.shape[1] * n.group) {
          fail(E_SHAPE, what + ": input " + shapeString(x) + " does not fit weight " + shapeString(w.shape) +
            " with group " + n.group.toString() + " (expected [N, C, H, W], weight [M, C/group, KH, KW], M % group == 0)");
          return null;
        }
        const b = n.bias;
        if (b != null && (b.shape.length != 1 || b.shape[0] != w.shape[0])) {
          fail(E_SHAPE, what + ": bias " + shapeString(b.shape) + " does not match " + w.shape[0].toString() + " output channels");
          return null;
        }
        n.kh = w.shape[2]; n.kw = w.shape[3];
        if (<i64>x[2] + n.pt + n.pb > MAX_ELEMENTS || <i64>x[3] + n.pl + n.pr > MAX_ELEMENTS) {
          fail(E_SHAPE, what + ": the padded input is larger than 2^28 along an axis");
          return null;
        }
        const oh = windowOut(x[2], n.kh, n.sh, n.pt, n.pb, n.dh, false);
        const ow = windowOut(x[3], n.kw, n.sw, n.pl, n.pr, n.dw, false);
        if (oh < 1 || ow < 1 || oh > MAX_ELEMENTS || ow > MAX_ELEMENTS) {
          fail(E_SHAPE, what + ": the kernel does not fit the padded input " + shapeString(x));
          return null;
        }
        out = new StaticArray<i32>(4);
        out[0] = x[0]; out[1] = w.shape[0]; out[2] = <i32>oh; out[3] = <i32>ow;
        break;
      }
      case OP_MAXPOOL:
      case OP_AVERAGEPOOL: {
        if (rank != 4) { fail(E_SHAPE, what + ": input " + shapeString(x) + " is not [N, C, H, W]"); return null; }
        if (<i64>x[2] + n.pt + n.pb > MAX_ELEMENTS || <i64>x[3] + n.pl + n.pr > MAX_ELEMENTS) {
          fail(E_SHAPE, what + ": the padded input is larger than 2^28 along an axis");
          return null;
        }
        const oh = windowOut(x[2], n.kh, n.sh, n.pt, n.pb, n.dh, n.ceilMode);
        const ow = windowOut(x[3], n.kw, n.sw, n.pl, n.pr, n.dw, n.ceilMode);
        if (oh < 1 || ow < 1 || oh > MAX_ELEMENTS || ow > MAX_ELEMENTS) {
          fail(E_SHAPE, what + ": the window does not fit the padded input " + shapeString(x));
          return null;
        }
        out = new StaticArray<i32>(4);
        out[0] = x[0]; out[1] = x[1]; out[2] = <i32>oh; out[3] = <i32>ow;
        break;
      }
      case OP_GLOBALAVERAGEPOOL: {
        if (rank != 4) { fail(E_SHAPE, what + ": input " + shapeString(x) + " is not [N, C, H, W]"); return null; }
        out = new StaticArray<i32>(4);
        out[0] = x[0]; out[1] = x[1]; out[2] = 1; out[3] = 1;
        break;
      }
      case OP_BATCHNORM: {
        if (rank < 2 || x[1] != n.bnScale.length) {
          fail(E_SHAPE, what + ": input " + shapeString(x) + " does not have " + n.bnScale.length.toString() + " channels on axis 1");
          return null;
        }
        break;
      }
      case OP_SOFTMAX:
      case OP_LOGSOFTMAX: {
        if (n.axis < -rank || n.axis >= rank) {
          fail(E_SHAPE, what + ": axis " + n.axis.toString() + " is out of range for rank " + rank.toString());
          return null;
        }
        break;
      }
      case OP_FLATTEN: {
        if (n.axis < -rank || n.axis > rank) {
          fail(E_SHAPE, what + ": axis " + n.axis.toString() + " is out of range for rank " + rank.toString());
          return null;
        }
        const axis = n.axis < 0 ? n.axis + rank : n.axis;
        let a: i64 = 1, b: i64 = 1;
        for (let d = 0; d < rank; d++) { if (d < axis) a *= x[d]; else b *= x[d]; }
        out = new StaticArray<i32>(2);
        out[0] = <i32>a; out[1] = <i32>b;
        break;
      }
      case OP_RESHAPE: {
        const spec = n.reshape;
        out = new StaticArray<i32>(spec.length);
        let total: i64 = 1;
        for (let d = 0; d < rank; d++) total *= x[d];
        let known: i64 = 1;
        let inferred = -1;
        for (let d = 0; d < spec.length; d++) {
          let v = spec[d];
          if (v == 0) {
            if (d >= rank) { fail(E_SHAPE, what + ": shape[" + d.toString() + "] = 0 copies a dimension the input " + shapeString(x) + " lacks"); return null; }
            v = x[d];
          }
          if (v == -1) { inferred = d; continue; }
          known *= v;
          if (known > MAX_ELEMENTS) { fail(E_SHAPE, what + ": target shape is too large"); return null; }
          out[d] = <i32>v;
        }
        if (inferred >= 0) {
          if (known == 0 || total % known != 0) {
            fail(E_SHAPE, what + ": cannot infer the -1 of the target shape from " + total.toString() + " elements");
            return null;
          }
          out[inferred] = <i32>(total / known);
        } else if (known != total) {
          fail(E_SHAPE, what + ": cannot reshape " + shapeString(x) + " (" + total.toString() + " elements) to " + known.toString() + " elements");
          return null;
        }
        break;
      }
      case OP_ADD: {
        const y = x1!;
        const r = max(rank, y.length);
        out = new StaticArray<i32>(r);
        for (let d = 0; d < r; d++) {
          const a = d - (r - rank) >= 0 ? x[d - (r - rank)] : 1;
          const b = d - (r - y.length) >= 0 ? y[d - (r - y.length)] : 1;
          if (a != b && a != 1 && b != 1) {
            fail(E_SHAPE, what + ": shapes " + shapeString(x) + " and " + shapeString(y) + " do not broadcast");
            return null;
          }
          out[d] = a == 1 ? b : a;
        }
        break;
      }
      default:
        break; // element-wise: same shape
    }
    return out;
  }

  /**
   * Infers every tensor's shape for `batch` and lays the tensors out in one
   * arena; allocates it when `allocate` (else it only measures arenaBytes).
   */
  plan(batch: i32, allocate: bool = true): bool {
    const m = this.model;
    const count = m.tensorNames.length;
    const shapes = new Array<StaticArray<i32>>(count);
    for (let t = 0; t < count; t++) shapes[t] = new StaticArray<i32>(0);
    const sizes = new StaticArray<i32>(count);
    const born = new StaticArray<i32>(count);   // step that writes the tensor (-1: graph input)
    const dies = new StaticArray<i32>(count);   // last step that reads it
    for (let t = 0; t < count; t++) { born[t] = -2; dies[t] = -2; }
    const steps = m.nodes.length;

    for (let i = 0; i < m.inputs.length; i++) {
      const t = m.inputs[i];
      const decl = m.tensorShapes[t];
      const s = new StaticArray<i32>(decl.length);
      for (let d = 0; d < decl.length; d++) s[d] = decl[d] == -1 ? batch : <i32>decl[d];
      shapes[t] = s;
      born[t] = -1; dies[t] = steps; // inputs stay: the caller writes them before run
    }
    let scratchFloats: i64 = 0;
    let work: f64 = 0;
    const addA = new Array<StaticArray<i32>>(steps);
    const addB = new Array<StaticArray<i32>>(steps);
    const addSame = new StaticArray<bool>(steps);
    for (let i = 0; i < steps; i++) {
      const n = m.nodes[i];
      const x = shapes[n.input0];
      const x1 = n.input1 >= 0 ? shapes[n.input1] : null;
      const out = this.inferShape(i, n, x, x1);
      if (out == null) return false;
      if (out.length > MAX_RANK) { fail(E_SHAPE, n.describe(i) + ": output rank above " + MAX_RANK.toString()); return false; }
      let size: i64 = 1;
      for (let d = 0; d < out.length; d++) size *= out[d];
      if (size > MAX_ELEMENTS) {
        fail(E_MEMORY, n.describe(i) + ": output " + shapeString(out) + " has more than 2^28 elements");
        return false;
      }
      // Work per run, in multiply-adds (or window reads for pools): a tiny
      // corrupt file must not be able to ask for hours of compute.
      if (n.op == OP_DENSE || n.op == OP_CONV2D) work += <f64>size * <f64>n.weight!.cols;
      else if (n.op == OP_MAXPOOL || n.op == OP_AVERAGEPOOL) work += <f64>size * <f64>n.kh * <f64>n.kw;
      else work += <f64>size;
      if (work > MAX_WORK * <f64>batch) {
        fail(E_MEMORY, n.describe(i) + ": the model needs more than 2^36 multiply-adds per example; the runtime refuses it");
        return false;
      }
      shapes[n.output] = out;
      born[n.output] = i;
      dies[n.output] = i;
      dies[n.input0] = max(dies[n.input0], i);
      if (n.input1 >= 0) dies[n.input1] = max(dies[n.input1], i);
      addA[i] = new StaticArray<i32>(0);
      addB[i] = new StaticArray<i32>(0);
      if (n.op == OP_CONV2D) {
        const w = n.weight!;
        // stride 1 along W: tap offsets (K ints) and, when padded, the padded
        // planes of one group; otherwise the im2col matrix [C/g·KH·KW, OH·OW]
        const padded = n.pt + n.pl + n.pb + n.pr > 0;
        scratchFloats = max(scratchFloats, n.sw == 1
          ? <i64>w.cols + 4 + (padded ? <i64>(x[1] / n.group) * (x[2] + n.pt + n.pb) * (x[3] + n.pl + n.pr) : 0)
          : <i64>out[2] * out[3] * w.cols);
      }
      if (n.op == OP_ADD) {
        addA[i] = broadcastStrides(x, out);
        addB[i] = broadcastStrides(x1!, out);
        addSame[i] = sameShape(x, out) && sameShape(x1!, out);
      }
    }
    for (let i = 0; i < m.outputs.length; i++) {
      const t = m.outputs[i];
      dies[t] = steps;
      // A declared output shape must match; -1 stands for any size (the batch).
      const decl = m.tensorShapes[t];
      const s = shapes[t];
      let ok = decl.length == s.length;
      for (let d = 0; ok && d < decl.length; d++) ok = decl[d] == -1 || decl[d] == <i64>s[d];
      if (!ok) {
        fail(E_SHAPE, "graph output '" + m.tensorNames[t] + "' is inferred as " + shapeString(s) + " but declared with a different shape");
        return false;
      }
    }

    // In place: an element-wise op (or a reshape) whose input is last read by
    // that very node writes over the input's buffer. `root` maps each tensor
    // to the tensor whose buffer it uses; a root's lifetime covers its chain.
    const root = new StaticArray<i32>(count);
    for (let t = 0; t < count; t++) root[t] = t;
    for (let i = 0; i < steps; i++) {
      const n = m.nodes[i];
      if (!inPlace(n.op) || dies[n.input0] != i || born[n.input0] < 0) continue;
      const r = root[n.input0];
      root[n.output] = r;
      dies[r] = max(dies[r], dies[n.output]);
    }

    // Greedy layout, largest buffers first: each takes the lowest offset that
    // does not overlap a placed buffer alive at the same time.
    const order = new Array<i32>(0);
    for (let t = 0; t < count; t++) {
      if (born[t] == -2) continue; // declared but never used
      let size: i64 = 1;
      for (let d = 0; d < shapes[t].length; d++) size *= shapes[t][d];
      sizes[t] = <i32>size;
      if (root[t] == t) order.push(t);
    }
    sortBySizeDesc(order, sizes);
    const offsets = new StaticArray<usize>(count);
    const placed = new Array<i32>(0);
    let arenaBytes: u64 = 0;
    for (let k = 0; k < order.length; k++) {
      const t = order[k];
      const bytes = align16(<u64>sizes[t] * 4);
      let offset: u64 = 0;
      let moved = true;
      while (moved) {
        moved = false;
        for (let j = 0; j < placed.length; j++) {
          const u = placed[j];
          if (born[u] > dies[t] || born[t] > dies[u]) continue; // lifetimes disjoint
          const uStart = <u64>offsets[u];
          const uEnd = uStart + align16(<u64>sizes[u] * 4);
          if (offset < uEnd && uStart < offset + bytes) { offset = uEnd; moved = true; }
        }
      }
      offsets[t] = <usize>offset;
      placed.push(t);
      arenaBytes = max(arenaBytes, offset + bytes);
    }
    for (let t = 0; t < count; t++) offsets[t] = offsets[root[t]];
    if (scratchFloats > MAX_ELEMENTS) { fail(E_MEMORY, "the scratch of a convolution has more than 2^28 elements"); return false; }
    const scratchOffset = arenaBytes;
    arenaBytes += align16(<u64>scratchFloats * 4);

    this.arenaBytes = arenaBytes;
    if (!allocate) return true;
    if (this.weightsBytes + arenaBytes > this.budget) {
      fail(E_BUDGET, "batch " + batch.toString() + " needs " + arenaBytes.toString() + " bytes of activations on top of " +
        this.weightsBytes.toString() + " bytes of weights, over the memory budget of " + this.budget.toString() + " bytes");
      return false;
    }
    if (this.arena != 0) heap.free(this.arena);
    this.arena = heap.alloc(<usize>max<u64>(arenaBytes, 16));
    memory.fill(this.arena, 0, <usize>arenaBytes);
    this.batch = batch;
    this.shapes = shapes;
    this.sizes = sizes;
    this.offsets = offsets;
    this.scratchOffset = <usize>scratchOffset;
    this.addA = addA;
    this.addB = addB;
    this.addSame = addSame;
    return true;
  }

  tensorPtr(t: i32): usize {
    return this.arena + unchecked(this.offsets[t]);
  }

  // ---- Run ------------------------------------------------------------------

  run(): void {
    const m = this.model;
    const naive = naiveKernels;
    for (let i = 0; i < m.nodes.length; i++) {
      const n = unchecked(m.nodes[i]);
      const xs = unchecked(this.shapes[n.input0]);
      const ys = unchecked(this.shapes[n.output]);
      const x = this.tensorPtr(n.input0);
      const y = this.tensorPtr(n.output);
      const size = unchecked(this.sizes[n.output]);
      switch (n.op) {
        case OP_DENSE: {
          // y [N, out] = x [N, in] · Wᵀ + b, a tile of weight rows (output units) at a time
          const w = n.weight!;
          const b = n.bias;
          const outF = ys[1];
          const step = this.rowsPerCall(w);
          for (let o = 0; o < outF; o += step) {
            const count = min(step, outF - o);
            const rows = this.weightRows(w, o, count);
            const bias = b != null ? b.dense + (<usize>o << 2) : 0;
            const yo = y + (<usize>o << 2);
            if (naive) gemmNaive(x, xs[0], xs[1], rows, count, yo, outF, 1, bias);
            else gemm(x, xs[0], xs[1], rows, count, yo, outF, 1, bias);
          }
          break;
        }
        case OP_CONV2D: {
          const w = n.weight!;
          const b = n.bias;
          const s = this.conv;
          s.n = xs[0]; s.c = xs[1]; s.h = xs[2]; s.w = xs[3];
          s.m = ys[1]; s.oh = ys[2]; s.ow = ys[3];
          s.kh = n.kh; s.kw = n.kw; s.sh = n.sh; s.sw = n.sw;
          s.pt = n.pt; s.pl = n.pl; s.dh = n.dh; s.dw = n.dw; s.group = n.group;
          if (naive) {
            for (let o = 0; o < s.m; o++) {
              convNaive(s, x, this.weightRows(w, o, 1), o, b != null ? load<f32>(b.dense + (<usize>o << 2)) : 0, y);
            }
            break;
          }
          // Per group: y[b, m, :] = W[m, :] · im2col(x[b, group]) [Kc, P] + bias[m],
          // a tile of weight rows at a time, shared by every image of the batch.
          const plane = s.oh * s.ow;
          const mg = s.m / s.group;
          const kc = w.cols;
          const col = this.arena + this.scratchOffset;
          const step = min(this.rowsPerCall(w), mg);
          // Stride 1 along W: taps read runs of x in place (of a padded copy when
          // there is padding), no im2col matrix.
          const direct = s.sw == 1;
          const padded = n.pt + n.pl + n.pb + n.pr > 0;
          const cg = s.c / s.group;
          const srcH = s.h + n.pt + n.pb, srcW = s.w + n.pl + n.pr;
          const copy = col + (<usize>align16(<u64>kc * 4)); // after the tap table
          for (let g = 0; g < s.group; g++) {
            for (let m0 = g * mg; m0 < (g + 1) * mg; m0 += step) {
              const count = min(step, (g + 1) * mg - m0);
              const rows = this.weightRows(w, m0, count);
              const bias = b != null ? b.dense + (<usize>m0 << 2) : 0;
              for (let im = 0; im < s.n; im++) {
                const out = y + ((<usize>(im * s.m + m0) * plane) << 2);
                if (direct && padded) {
                  padCopy(s, x, im, g, n.pb, n.pr, copy);
                  convDirect(s, copy, srcH, srcW, rows, count, out, bias, col);
                } else if (direct) {
                  convDirect(s, x + ((<usize>(im * s.c + g * cg) * s.h * s.w) << 2), s.h, s.w, rows, count, out, bias, col);
                } else {
                  im2col(s, x, im, g, col);
                  convGemm(rows, count, kc, col, plane, out, bias);
                }
              }
            }
          }
          break;
        }
        case OP_RELU: ops.relu(x, y, size); break;
        case OP_LEAKYRELU: ops.leakyRelu(x, y, size, n.alpha); break;
        case OP_SIGMOID: ops.sigmoid(x, y, size); break;
        case OP_TANH: ops.tanh(x, y, size); break;
        case OP_SOFTMAX:
        case OP_LOGSOFTMAX: {
          const rank = xs.length;
          const axis = n.axis < 0 ? n.axis + rank : n.axis;
          let outer = 1, inner = 1;
          for (let d = 0; d < axis; d++) outer *= xs[d];
          for (let d = axis + 1; d < rank; d++) inner *= xs[d];
          ops.softmax(x, y, outer, xs[axis], inner, n.op == OP_LOGSOFTMAX);
          break;
        }
        case OP_FLATTEN:
        case OP_RESHAPE: ops.copy(x, y, size); break;
        case OP_MAXPOOL:
        case OP_AVERAGEPOOL: {
          const s = this.pool;
          s.n = xs[0]; s.c = xs[1]; s.h = xs[2]; s.w = xs[3]; s.oh = ys[2]; s.ow = ys[3];
          s.kh = n.kh; s.kw = n.kw; s.sh = n.sh; s.sw = n.sw;
          s.pt = n.pt; s.pl = n.pl; s.pb = n.pb; s.pr = n.pr; s.dh = n.dh; s.dw = n.dw;
          if (n.op == OP_MAXPOOL) ops.maxPool(s, x, y);
          else ops.averagePool(s, x, y, n.countIncludePad);
          break;
        }
        case OP_GLOBALAVERAGEPOOL: ops.globalAveragePool(x, y, xs[0] * xs[1], xs[2] * xs[3]); break;
        case OP_BATCHNORM: {
          let inner = 1;
          for (let d = 2; d < xs.length; d++) inner *= xs[d];
          ops.batchNorm(x, y, xs[0], xs[1], inner, n.bnScale, n.bnBias, n.bnMean, n.bnVariance, n.epsilon);
          break;
        }
        case OP_ADD:
          ops.add(x, this.tensorPtr(n.input1), y, ys, unchecked(this.addA[i]), unchecked(this.addB[i]), this.addIndex, size, unchecked(this.addSame[i]));
          break;
        default:
          break;
      }
    }
  }
}

/** Ops that may write their output over their input (same size, element by element). */
function inPlace(op: i32): bool {
  return op == OP_RELU || op == OP_LEAKYRELU || op == OP_SIGMOID || op == OP_TANH || op == OP_SOFTMAX ||
    op == OP_LOGSOFTMAX || op == OP_FLATTEN || op == OP_RESHAPE || op == OP_BATCHNORM;
}

function sameShape(a: StaticArray<i32>, b: StaticArray<i32>): bool {
  if (a.length != b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] != b[d]) return false;
  return true;
}

/** Element strides of `s` along the axes of `out` (right-aligned; 0 where broadcast). */
function broadcastStrides(s: StaticArray<i32>, out: StaticArray<i32>): StaticArray<i32> {
  const r = out.length;
  const strides = new StaticArray<i32>(r);
  let stride = 1;
  for (let d = r - 1; d >= 0; d--) {
    const k = d - (r - s.length);
    const dim = k >= 0 ? s[k] : 1;
    strides[d] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  return strides;
}

/** Insertion sort of tensor indices by size, largest first (graphs are small). */
function sortBySizeDesc(order: Array<i32>, sizes: StaticArray<i32>): void {
  for (let i = 1; i < order.length; i++) {
    const t = order[i];
    let j = i - 1;
    while (j >= 0 && sizes[order[j]] < sizes[t]) { order[j + 1] = order[j]; j--; }
    order[j + 1] = t;
  }
}
