// The arena plan for one batch size: every tensor's shape and size, the work
// the model asks for (capped), and where each tensor lives in one arena, with
// buffers shared between tensors whose lifetimes do not overlap.

import { E_MEMORY, E_SHAPE, fail } from "./errors";
import {
  Model,
  OP_DENSE, OP_CONV2D, OP_RELU, OP_LEAKYRELU, OP_SIGMOID, OP_TANH, OP_SOFTMAX, OP_LOGSOFTMAX,
  OP_FLATTEN, OP_RESHAPE, OP_MAXPOOL, OP_AVERAGEPOOL, OP_BATCHNORM, OP_ADD,
} from "./model";
import { MAX_ELEMENTS, MAX_RANK, MAX_WORK } from "./limits";
import { broadcastStrides, inferShape, sameShape, shapeString } from "./shapes";
import { align16 } from "./weights";

export class Plan {
  batch: i32 = 0;
  shapes: Array<StaticArray<i32>> = [];
  sizes: StaticArray<i32> = new StaticArray<i32>(0);   // elements per tensor
  offsets: StaticArray<usize> = new StaticArray<usize>(0);
  arenaBytes: u64 = 0;
  scratchOffset: usize = 0;    // im2col matrix of one image, at the end of the arena
  // Broadcast strides of each Add's inputs (empty for other nodes), and whether both match the output.
  addA: Array<StaticArray<i32>> = [];
  addB: Array<StaticArray<i32>> = [];
  addSame: StaticArray<bool> = new StaticArray<bool>(0);
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
export function shapesFit(m: Model, batch: i32): bool {
  const shapes = new Array<StaticArray<i32>>(m.tensorNames.length);
  for (let t = 0; t < shapes.length; t++) shapes[t] = new StaticArray<i32>(0);
  for (let i = 0; i < m.inputs.length; i++) {
    const t = m.inputs[i];
    shapes[t] = atBatch(m.tensorShapes[t], batch);
  }
  for (let i = 0; i < m.nodes.length; i++) {
    const n = m.nodes[i];
    const out = inferShape(i, n, shapes[n.input0], n.input1 >= 0 ? shapes[n.input1] : null);
    if (out == null) return false;
    shapes[n.output] = out;
  }
  return outputsFit(m, shapes, batch);
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
  const addA = new Array<StaticArray<i32>>(steps);
  const addB = new Array<StaticArray<i32>>(steps);
  const addSame = new StaticArray<bool>(steps);
  for (let i = 0; i < steps; i++) {
    const n = m.nodes[i];
    const x = shapes[n.input0];
    const x1 = n.input1 >= 0 ? shapes[n.input1] : null;
    const out = inferShape(i, n, x, x1);
    if (out == null) return null;
    if (out.length > MAX_RANK) { fail(E_SHAPE, n.describe(i) + ": output rank above " + MAX_RANK.toString()); return null; }
    let size: i64 = 1;
    for (let d = 0; d < out.length; d++) size *= out[d];
    if (size > MAX_ELEMENTS) {
      fail(E_MEMORY, n.describe(i) + ": output " + shapeString(out) + " has more than 2^28 elements");
      return null;
    }
    // Work per run, in multiply-adds (or window reads for pools): a tiny
    // corrupt file must not be able to ask for hours of compute.
    if (n.op == OP_DENSE || n.op == OP_CONV2D) work += <f64>size * <f64>n.weight!.cols;
    else if (n.op == OP_MAXPOOL || n.op == OP_AVERAGEPOOL) work += <f64>size * <f64>n.kh * <f64>n.kw;
    else work += <f64>size;
    if (work > MAX_WORK * <f64>batch) {
      fail(E_MEMORY, n.describe(i) + ": the model needs more than 2^36 multiply-adds per example; the runtime refuses it");
      return null;
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
  p.addA = addA;
  p.addB = addB;
  p.addSame = addSame;
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

/** Ops that may write their output over their input (same size, element by element). */
function inPlace(op: i32): bool {
  return op == OP_RELU || op == OP_LEAKYRELU || op == OP_SIGMOID || op == OP_TANH || op == OP_SOFTMAX ||
    op == OP_LOGSOFTMAX || op == OP_FLATTEN || op == OP_RESHAPE || op == OP_BATCHNORM;
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
