// The arena plan for one batch size: every tensor's shape and size, the work
// the model asks for (capped), and where each tensor lives in one arena, with
// buffers shared between tensors whose lifetimes do not overlap.

import { E_MEMORY, E_SHAPE, fail } from "./errors";
import {
  Model, Node,
  OP_DENSE, OP_CONV2D, OP_RELU, OP_LEAKYRELU, OP_SIGMOID, OP_TANH, OP_SOFTMAX, OP_LOGSOFTMAX,
  OP_FLATTEN, OP_RESHAPE, OP_MAXPOOL, OP_AVERAGEPOOL, OP_BATCHNORM, OP_ADD,
  OP_CONCAT, OP_SLICE, OP_CLIP, OP_HARDSIGMOID, OP_HARDSWISH, OP_MUL, OP_SUB, OP_DIV, OP_POW, OP_SQRT, OP_EXP,
  OP_ERF, OP_NEG, OP_REDUCEMEAN, OP_REDUCESUM, OP_REDUCEMAX, OP_TRANSPOSE, OP_MATMUL, OP_LAYERNORM, OP_GELU,
  OP_SQUEEZE, OP_UNSQUEEZE, OP_PAD, OP_RESIZE, OP_CONVTRANSPOSE, OP_EXPAND, OP_GLOBALAVERAGEPOOL, OP_GLOBALMAXPOOL,
} from "./model";
import { MAX_DIMENSION, MAX_ELEMENTS, MAX_RANK, MAX_WORK } from "./limits";
import { axisFlags, axisIndex, broadcastStrides, inferShape, sameShape, shapeString, sliceFirst } from "./shapes";
import { align16 } from "./weights";
import { Broadcast, Copy, MatMulPlan, Reduction, ResizePlan, planBroadcast, planReduction, planResize } from "./layout";

export class Plan {
  batch: i32 = 0;
  shapes: Array<StaticArray<i32>> = [];
  sizes: StaticArray<i32> = new StaticArray<i32>(0);   // elements per tensor
  offsets: StaticArray<usize> = new StaticArray<usize>(0);
  arenaBytes: u64 = 0;
  scratchOffset: usize = 0;    // scratch of one node at a time (im2col, a padded plane, Bᵀ), at the end of the arena
  steps: Array<Step> = [];     // per node: the index arithmetic its kernel needs, worked out once
}

/** What one node's kernel needs beyond shapes, worked out at plan time so that a run allocates nothing. */
export class Step {
  copies: Array<Copy> = [];         // Concat (one per input), Slice, Transpose, Expand, Pad
  broadcast: Broadcast | null = null; // Add, Mul, Sub, Div
  reduction: Reduction | null = null; // Reduce*
  matmul: MatMulPlan | null = null;
  resize: ResizePlan | null = null;
}

/** A graph input's declared shape with its symbolic batch (-1) set to `batch`. */
function atBatch(decl: StaticArray<i64>, batch: i32): StaticArray<i32> {
  const s = new StaticArray<i32>(decl.length);
  for (let d = 0; d < decl.length; d++) s[d] = decl[d] == -1 ? batch : <i32>decl[d];
  return s;
}

/**
 * True when every node's shapes fit at `batch` and the graph outputs have
 * their declared shapes; records an error otherwise. Shapes only: the load
 * checks batch 2 with it, so that a graph whose shapes fit only at batch 1
 * (a Flatten over the batch, say) is refused as @hnet/format refuses it.
 */
export function shapesFit(m: Model, batch: i32, atOne: Array<StaticArray<i32>>): bool {
  const shapes = new Array<StaticArray<i32>>(m.tensorNames.length);
  for (let t = 0; t < shapes.length; t++) shapes[t] = new StaticArray<i32>(0);
  for (let i = 0; i < m.inputs.length; i++) {
    const t = m.inputs[i];
    shapes[t] = atBatch(m.tensorShapes[t], batch);
  }
  for (let i = 0; i < m.nodes.length; i++) {
    const n = m.nodes[i];
    const out = inferShape(i, n, inputShapes(n, shapes), batch);
    if (out == null || !batchAxesFit(i, n, atOne, shapes)) return false;
    shapes[n.output] = out;
  }
  return outputsFit(m, shapes, batch);
}

/**
 * The ops that need a known size where they compute with one refuse the
 * batch axis there, as @hnet/format's symbolic inference does: an axis whose
 * size differs between batch 1 (`one`) and the batch of `two` is the batch.
 * Slice keeps it only whole; Pad does not pad it; Resize and ConvTranspose
 * do not take it as a spatial axis.
 */
function batchAxesFit(i: i32, n: Node, one: Array<StaticArray<i32>>, two: Array<StaticArray<i32>>): bool {
  if (n.input0 < 0) return true;
  const a = one[n.input0], b = two[n.input0];
  switch (n.op) {
    case OP_SLICE:
      for (let k = 0; k < n.axes.length; k++) {
        const d = axisIndex(n.axes[k], a.length);
        const whole = n.steps[k] == 1 && (n.starts[k] == 0 || n.starts[k] <= -MAX_DIMENSION) && n.ends[k] >= MAX_DIMENSION;
        if (a[d] != b[d] && !whole) {
          return fail(E_SHAPE, n.describe(i) + ": slicing axis " + d.toString() + ", the batch dimension, must keep it whole (start 0, end >= 2^31 - 1, step 1)");
        }
      }
      return true;
    case OP_PAD:
      for (let d = 0; d < a.length; d++) {
        if (a[d] != b[d] && (n.padding[d] != 0 || n.padding[a.length + d] != 0)) {
          return fail(E_SHAPE, n.describe(i) + ": padded axis " + d.toString() + " is the batch dimension; Pad needs a known size there");
        }
      }
      return true;
    case OP_RESIZE:
    case OP_CONVTRANSPOSE:
      for (let d = 2; d < 4; d++) {
        if (a[d] != b[d]) return fail(E_SHAPE, n.describe(i) + ": axis " + d.toString() + " is the batch dimension; this op needs a known size there");
      }
      return true;
    default:
      return true;
  }
}

function inputShapes(n: Node, shapes: Array<StaticArray<i32>>): Array<StaticArray<i32>> {
  const ins = new Array<StaticArray<i32>>(n.inputs.length);
  for (let k = 0; k < n.inputs.length; k++) ins[k] = shapes[n.inputs[k]];
  return ins;
}

/** Row-major element strides of a shape. */
export function contiguousStrides(s: StaticArray<i32>): StaticArray<i32> {
  const strides = new StaticArray<i32>(s.length);
  let stride = 1;
  for (let d = s.length - 1; d >= 0; d--) { strides[d] = stride; stride *= s[d]; }
  return strides;
}

/** The index arithmetic of node n with input shapes `ins` and output shape `out`, and the scratch floats it needs. */
function planStep(n: Node, ins: Array<StaticArray<i32>>, out: StaticArray<i32>, step: Step): i64 {
  const x = ins.length > 0 ? ins[0] : out;
  const rank = x.length;
  switch (n.op) {
    case OP_ADD:
    case OP_MUL:
    case OP_SUB:
    case OP_DIV:
      step.broadcast = planBroadcast(ins[0], ins[1], out);
      return 0;
    case OP_CONCAT: {
      // each input is a block of the output at its offset along the axis
      const axis = axisIndex(n.axis, rank);
      const dst = contiguousStrides(out);
      let offset = 0;
      for (let k = 0; k < ins.length; k++) {
        step.copies.push(new Copy(k, ins[k], contiguousStrides(ins[k]), 0, dst, offset * dst[axis]));
        offset += ins[k][axis];
      }
      return 0;
    }
    case OP_SLICE: {
      // out[i] = x[first + i · step] along each sliced axis
      const src = contiguousStrides(x);
      const strides = StaticArray.slice<i32>(src);
      let base: i64 = 0;
      for (let k = 0; k < n.axes.length; k++) {
        const a = axisIndex(n.axes[k], rank);
        base += sliceFirst(x[a], n.starts[k], n.ends[k], n.steps[k]) * src[a];
        // a step beyond the axis leaves one element, whose stride is never taken
        strides[a] = out[a] == 1 ? 0 : <i32>(<i64>src[a] * n.steps[k]);
      }
      step.copies.push(new Copy(0, out, strides, <i32>base, contiguousStrides(out), 0));
      return 0;
    }
    case OP_TRANSPOSE: {
      const src = contiguousStrides(x);
      const strides = new StaticArray<i32>(rank);
      for (let d = 0; d < rank; d++) strides[d] = src[n.axes[d]];
      step.copies.push(new Copy(0, out, strides, 0, contiguousStrides(out), 0));
      return 0;
    }
    case OP_EXPAND:
      step.copies.push(new Copy(0, out, broadcastStrides(x, out), 0, contiguousStrides(out), 0));
      return 0;
    case OP_PAD: {
      // the output is filled with the value, then x is copied into its interior
      const dst = contiguousStrides(out);
      let base = 0;
      for (let d = 0; d < rank; d++) base += <i32>n.padding[d] * dst[d];
      step.copies.push(new Copy(0, x, contiguousStrides(x), 0, dst, base));
      return 0;
    }
    case OP_REDUCEMEAN:
    case OP_REDUCESUM:
    case OP_REDUCEMAX: {
      let flags = axisFlags(n.axes, rank)!;
      if (n.allAxes) for (let d = 0; d < rank; d++) flags[d] = true;
      step.reduction = planReduction(x, flags);
      return 0;
    }
    case OP_MATMUL: {
      const mm = new MatMulPlan(ins[0], ins[1], out);
      step.matmul = mm;
      return <i64>mm.k * mm.n; // Bᵀ of one matrix, for gemm
    }
    case OP_RESIZE:
      step.resize = planResize(n, x, out);
      return 0;
    case OP_CONV2D: {
      const w = n.weight!;
      // stride 1 along W: tap offsets (K ints) and, when padded, the padded
      // planes of one group; otherwise the im2col matrix [C/g·KH·KW, OH·OW]
      const padded = n.pt + n.pl + n.pb + n.pr > 0;
      const general = n.sw == 1
        ? <i64>w.cols + 4 + (padded ? <i64>(x[1] / n.group) * (x[2] + n.pt + n.pb) * (x[3] + n.pl + n.pr) : 0)
        : <i64>out[2] * out[3] * w.cols;
      // Depthwise needs only one padded plane (and slack for the SIMD reads past a
      // row's end); the cap stays @hnet/format's rule, which counts the general scratch.
      const depthwise = n.group == x[1] && w.shape[0] == x[1] && w.shape[1] == 1;
      return depthwise && general <= MAX_ELEMENTS ? <i64>(x[2] + n.pt + n.pb) * (x[3] + n.pl + n.pr) + 8 : general;
    }
    default:
      return 0;
  }
}

/** Work of one node per run, in multiply-adds (window reads for pools, elements read or written for the rest). */
function workOf(n: Node, ins: Array<StaticArray<i32>>, out: StaticArray<i32>, size: i64): f64 {
  if (n.op == OP_DENSE || n.op == OP_CONV2D) return <f64>size * <f64>n.weight!.cols;
  if (n.op == OP_MAXPOOL || n.op == OP_AVERAGEPOOL) return <f64>size * <f64>n.kh * <f64>n.kw;
  if (n.op == OP_MATMUL) return <f64>size * <f64>ins[0][ins[0].length - 1];
  if (n.op == OP_CONVTRANSPOSE) return <f64>elements(ins[0]) * <f64>n.weight!.cols;
  // A reduction or global pool reads its whole input for a much smaller output.
  if (n.op == OP_REDUCEMEAN || n.op == OP_REDUCESUM || n.op == OP_REDUCEMAX ||
      n.op == OP_GLOBALAVERAGEPOOL || n.op == OP_GLOBALMAXPOOL) return <f64>elements(ins[0]);
  return <f64>size;
}

function elements(s: StaticArray<i32>): i64 {
  let n: i64 = 1;
  for (let d = 0; d < s.length; d++) n *= s[d];
  return n;
}

/** A declared output shape must match; -1 stands for any size (the batch). */
function outputsFit(m: Model, shapes: Array<StaticArray<i32>>, batch: i32): bool {
  for (let i = 0; i < m.outputs.length; i++) {
    const t = m.outputs[i];
    const decl = m.tensorShapes[t];
    const s = shapes[t];
    let ok = decl.length == s.length;
    for (let d = 0; ok && d < decl.length; d++) ok = decl[d] == -1 || decl[d] == <i64>s[d];
    if (!ok) {
      return fail(E_SHAPE, "graph output '" + m.tensorNames[t] + "' is inferred as " + shapeString(s) + " at batch " + batch.toString() + " but declared with a different shape");
    }
  }
  return true;
}

/**
 * Infers every tensor's shape for `batch` and lays the tensors out in one
 * arena (allocated by the caller). Returns null and records an error when
 * shapes do not fit or a cap is exceeded. `naive` lays the arena out with
 * placeNaive (tests check both layouts are the same).
 */
export function planArena(m: Model, batch: i32, naive: bool = false): Plan | null {
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
    shapes[t] = atBatch(m.tensorShapes[t], batch);
    born[t] = -1; dies[t] = steps; // inputs stay: the caller writes them before run
  }
  let scratchFloats: i64 = 0;
  let work: f64 = 0;
  const plans = new Array<Step>(steps);
  for (let i = 0; i < steps; i++) {
    const n = m.nodes[i];
    const ins = inputShapes(n, shapes);
    const out = inferShape(i, n, ins, batch);
    if (out == null) return null;
    if (out.length > MAX_RANK) { fail(E_SHAPE, n.describe(i) + ": output rank above " + MAX_RANK.toString()); return null; }
    let size: i64 = 1;
    for (let d = 0; d < out.length; d++) size *= out[d];
    if (size > MAX_ELEMENTS) {
      fail(E_MEMORY, n.describe(i) + ": output " + shapeString(out) + " has more than 2^28 elements");
      return null;
    }
    // Work per run: a tiny corrupt file must not be able to ask for hours of compute.
    work += workOf(n, ins, out, size);
    if (work > MAX_WORK * <f64>batch) {
      fail(E_MEMORY, n.describe(i) + ": the model needs more than 2^36 multiply-adds per example; the runtime refuses it");
      return null;
    }
    shapes[n.output] = out;
    born[n.output] = i;
    dies[n.output] = i;
    for (let k = 0; k < n.inputs.length; k++) dies[n.inputs[k]] = max(dies[n.inputs[k]], i);
    const step = new Step();
    scratchFloats = max(scratchFloats, planStep(n, ins, out, step));
    plans[i] = step;
  }
  for (let i = 0; i < m.outputs.length; i++) dies[m.outputs[i]] = steps;
  if (!outputsFit(m, shapes, batch)) return null;

  // In place: an element-wise op (or a reshape) whose input is last read by
  // that very node writes over the input's buffer. `root` maps each tensor
  // to the tensor whose buffer it uses; a root's lifetime covers its chain.
  const root = new StaticArray<i32>(count);
  for (let t = 0; t < count; t++) root[t] = t;
  for (let i = 0; i < steps; i++) {
    const n = m.nodes[i];
    if (!inPlace(n.op) || dies[n.input0] != i || born[n.input0] < 0) continue;
    // a two-input op writes over its first input only when that has the output's shape
    if (n.input1 >= 0 && !sameShape(shapes[n.input0], shapes[n.output])) continue;
    const r = root[n.input0];
    root[n.output] = r;
    dies[r] = max(dies[r], dies[n.output]);
  }

  // Graph inputs live through the whole run (the caller writes them first):
  // they take the bottom of the arena, one after another.
  const offsets = new StaticArray<usize>(count);
  let arenaBytes: u64 = 0;
  for (let t = 0; t < count; t++) {
    if (born[t] == -2) continue; // declared but never used
    let size: i64 = 1;
    for (let d = 0; d < shapes[t].length; d++) size *= shapes[t][d];
    sizes[t] = <i32>size;
  }
  for (let i = 0; i < m.inputs.length; i++) {
    const t = m.inputs[i];
    offsets[t] = <usize>arenaBytes;
    arenaBytes += align16(<u64>sizes[t] * 4);
  }
  const base = arenaBytes;

  // Every other buffer: greedy, largest first, each at the lowest offset that
  // does not overlap a placed buffer alive at the same time.
  const order = new Array<i32>(0);
  for (let t = 0; t < count; t++) if (born[t] >= 0 && root[t] == t) order.push(t);
  sortBy<i32>(order, sizes, true);
  arenaBytes = max(arenaBytes, naive
    ? placeNaive(order, sizes, born, dies, base, offsets)
    : place(order, sizes, born, dies, steps, base, offsets));
  for (let t = 0; t < count; t++) offsets[t] = offsets[root[t]];
  if (scratchFloats > MAX_ELEMENTS) { fail(E_MEMORY, "the scratch of a convolution has more than 2^28 elements"); return null; }
  const scratchOffset = arenaBytes;
  arenaBytes += align16(<u64>scratchFloats * 4);

  const p = new Plan();
  p.batch = batch;
  p.shapes = shapes;
  p.sizes = sizes;
  p.offsets = offsets;
  p.arenaBytes = arenaBytes;
  p.scratchOffset = <usize>scratchOffset;
  p.steps = plans;
  return p;
}

/**
 * Places buffers (largest first) at the lowest offset >= base that overlaps
 * no placed buffer alive at the same time; returns the end of the highest.
 * alive[s] lists the placed buffers alive at step s, so a buffer meets only
 * the buffers it could overlap: O(n log n) plus the pairs of simultaneously
 * alive buffers, where placeNaive compares every pair.
 */
function place(
  order: Array<i32>, sizes: StaticArray<i32>, born: StaticArray<i32>, dies: StaticArray<i32>, steps: i32, base: u64,
  offsets: StaticArray<usize>,
): u64 {
  const alive = new Array<Array<i32>>(steps + 1);
  for (let s = 0; s <= steps; s++) alive[s] = new Array<i32>(0);
  const seen = new StaticArray<i32>(sizes.length); // k + 1 when already met while placing order[k]
  const starts = new StaticArray<u64>(sizes.length);
  const near = new Array<i32>(0);
  let end = base;
  for (let k = 0; k < order.length; k++) {
    const t = order[k];
    const bytes = align16(<u64>sizes[t] * 4);
    near.length = 0;
    for (let s = born[t]; s <= dies[t]; s++) {
      const list = unchecked(alive[s]);
      for (let j = 0; j < list.length; j++) {
        const u = unchecked(list[j]);
        if (seen[u] == k + 1) continue;
        seen[u] = k + 1;
        near.push(u);
      }
    }
    // Sweep the neighbours by start: the first gap of `bytes` is the offset.
    sortBy<u64>(near, starts, false);
    let offset = base;
    for (let j = 0; j < near.length; j++) {
      const u = unchecked(near[j]);
      const uStart = starts[u];
      if (uStart >= offset + bytes) break;
      offset = max(offset, uStart + align16(<u64>sizes[u] * 4));
    }
    offsets[t] = <usize>offset;
    starts[t] = offset;
    for (let s = born[t]; s <= dies[t]; s++) unchecked(alive[s]).push(t);
    end = max(end, offset + bytes);
  }
  return end;
}

/** The same placement, naively: each buffer moves up past every overlapping placed buffer until none overlaps. */
function placeNaive(
  order: Array<i32>, sizes: StaticArray<i32>, born: StaticArray<i32>, dies: StaticArray<i32>, base: u64,
  offsets: StaticArray<usize>,
): u64 {
  const placed = new Array<i32>(0);
  let end = base;
  for (let k = 0; k < order.length; k++) {
    const t = order[k];
    const bytes = align16(<u64>sizes[t] * 4);
    let offset = base;
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
    end = max(end, offset + bytes);
  }
  return end;
}

/**
 * Ops that may write their output over their input: element by element (a
 * row at a time for Softmax and LayerNorm, which read the row first), or the
 * same bytes under another shape (Flatten, Reshape, Squeeze, Unsqueeze: then
 * nothing is copied). MatMul is not one: Dense's rows are read whole.
 */
function inPlace(op: i32): bool {
  return op == OP_RELU || op == OP_LEAKYRELU || op == OP_SIGMOID || op == OP_TANH || op == OP_SOFTMAX ||
    op == OP_LOGSOFTMAX || op == OP_FLATTEN || op == OP_RESHAPE || op == OP_BATCHNORM ||
    op == OP_SQUEEZE || op == OP_UNSQUEEZE || op == OP_ADD || op == OP_MUL || op == OP_SUB || op == OP_DIV ||
    op == OP_CLIP || op == OP_HARDSIGMOID || op == OP_HARDSWISH || op == OP_POW || op == OP_SQRT || op == OP_EXP ||
    op == OP_ERF || op == OP_NEG || op == OP_GELU || op == OP_LAYERNORM;
}

/**
 * Stable merge sort of tensor indices by keys[index], descending or
 * ascending: O(n log n) for graphs of any size.
 */
function sortBy<T>(ids: Array<i32>, keys: StaticArray<T>, descending: bool): void {
  const n = ids.length;
  if (n < 2) return;
  let from = ids.slice(0);
  let to = new Array<i32>(n);
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n), hi = min(lo + (width << 1), n);
      let a = lo, b = mid, o = lo;
      while (a < mid && b < hi) {
        const ka = keys[from[a]], kb = keys[from[b]];
        // Take from the right run only when strictly before: equal keys keep their order.
        const right = descending ? kb > ka : kb < ka;
        to[o++] = right ? from[b++] : from[a++];
      }
      while (a < mid) to[o++] = from[a++];
      while (b < hi) to[o++] = from[b++];
    }
    const swap = from; from = to; to = swap;
  }
  for (let i = 0; i < n; i++) ids[i] = from[i];
}
