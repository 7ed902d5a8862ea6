// Tensors known at import time (initializers, Constant nodes, folded shape
// arithmetic), and the plain evaluators that constant folding uses.
//
// An element of a known integer tensor may depend on the batch size N, but
// only linearly: value = values[i] + batch[i]·N. That is what a dynamic-batch
// export computes from Shape(x) (x.size(0), x.size(0) * heads, ...): shape
// arithmetic keeps it exact, and the converters that take a shape (Reshape,
// Expand) turn an entry of N·k into the -1 or 0 hnet's constant shapes use.

import { DataType } from '../proto.js';
import type { ConstTensor } from '../tensors.js';
import { refuse } from './refusal.js';

export interface Known {
  dims: number[];
  dataType: number;
  values: Float64Array;
  /** Coefficient of the batch size N per element; null: no element depends on N. */
  batch: Float64Array | null;
}

/**
 * Elements any fold may create, summed over one import, beyond one per byte of
 * the model file and one per initializer element: a folded value is charged before it is allocated, so a file of a
 * few hundred bytes (ConstantOfShape to [2^30], a chain of Concats that each
 * double a constant) is refused instead of costing gigabytes or minutes.
 * Real models fold shape arithmetic and reshuffle their weights a few times,
 * which stays well within it.
 */
export const FOLD_BASE_ELEMENTS = 2 ** 20;

/** What the folds of one import may still create; `charge` refuses past it. */
export class FoldBudget {
  private limit: number;
  private used = 0;

  /** `fileBytes`: the size of the model file. */
  constructor(fileBytes: number) {
    this.limit = FOLD_BASE_ELEMENTS + fileBytes;
  }

  /** One more element per element of an initializer read (external data is not in the file's size). */
  allow(elements: number): void {
    this.limit += elements;
  }

  /** Accounts for `elements` (values to allocate, or steps of work) before they are spent. */
  charge(elements: number, what: string): void {
    this.used += elements;
    if (!(this.used <= this.limit)) {
      refuse(`folding ${what} at import (${elements} elements) takes the folded values past ${this.limit} elements, the cap for this file (2^20 plus one per byte of the model and per initializer element)`);
    }
  }
}

export const fromConst = (c: ConstTensor): Known => ({ dims: [...c.dims], dataType: c.dataType, values: c.values, batch: null });

export const count = (dims: readonly number[]): number => dims.reduce((p, q) => p * q, 1);

/** Row-major strides of a shape. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

export const dependsOnBatch = (k: Known): boolean => k.batch !== null && k.batch.some((b) => b !== 0);

/** The values of a tensor that must not depend on the batch size. */
export function plainValues(k: Known, what: string): Float64Array {
  if (dependsOnBatch(k)) refuse(`${what} depends on the batch size; hnet needs it constant`);
  return k.values;
}

/** A shape given as a known tensor: sizes that are integers >= 0. */
export function sizeList(k: Known, what: string): number[] {
  const dims = intList(k, what);
  const bad = dims.find((d) => !(Number.isSafeInteger(d) && d >= 0));
  if (bad !== undefined) refuse(`${what} [${dims}] holds ${bad}, which is not a size`);
  return dims;
}

/** A 1-D (or scalar) integer list that must not depend on the batch size. */
export function intList(k: Known, what: string): number[] {
  return [...plainValues(k, what)];
}

export const isFloatType = (t: number): boolean => t === DataType.FLOAT || t === DataType.FLOAT16 || t === DataType.DOUBLE;

/** Rounds a computed value to what the tensor's type holds (float32 arithmetic, as onnxruntime computes it). */
export function roundTo(dataType: number, v: number): number {
  if (dataType === DataType.FLOAT || dataType === DataType.FLOAT16) return Math.fround(v);
  if (dataType === DataType.DOUBLE) return v;
  if (dataType === DataType.BOOL) return v ? 1 : 0;
  return Math.trunc(v); // integer types: ONNX integer Div truncates
}

/** A known tensor whose elements are picked from `k` by flat index (the batch terms move with them). */
export function pick(k: Known, dims: number[], from: ArrayLike<number>): Known {
  const values = Float64Array.from(from, (i) => k.values[i]);
  const batch = k.batch ? Float64Array.from(from, (i) => k.batch![i]) : null;
  return { dims, dataType: k.dataType, values, batch };
}

/** For each element of a tensor of shape `outDims`, the flat index of the element of `dims` it broadcasts from. */
export function broadcastIndex(dims: readonly number[], outDims: readonly number[]): Int32Array {
  const rank = outDims.length;
  const padded = [...new Array<number>(rank - dims.length).fill(1), ...dims];
  const inStrides = stridesOf(padded);
  const outStrides = stridesOf(outDims);
  const index = new Int32Array(count(outDims));
  for (let o = 0; o < index.length; o++) {
    let at = 0;
    for (let d = 0; d < rank; d++) {
      const i = Math.floor(o / outStrides[d]) % outDims[d];
      if (padded[d] !== 1) at += i * inStrides[d];
    }
    index[o] = at;
  }
  return index;
}

/** Numpy broadcast of known shapes, refused when they do not fit. */
export function broadcastDims(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let d = 0; d < rank; d++) {
    let size = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + d] ?? 1;
      if (v === 1) continue;
      if (size !== 1 && size !== v) refuse(`cannot broadcast ${shapes.map((x) => `[${x.join(', ')}]`).join(' with ')}`);
      size = v;
    }
    out.push(size);
  }
  return out;
}

/** An element of an affine value: a + b·N. */
export interface Affine { a: number; b: number }

/**
 * Element-wise op of known tensors with numpy broadcasting. `f` sees each
 * element as a + b·N and returns one; ops that are not affine in N refuse
 * when b ≠ 0 (helpers below).
 */
export function elementwise(budget: FoldBudget, inputs: readonly Known[], dataType: number, f: (xs: Affine[]) => Affine): Known {
  const dims = broadcastDims(inputs.map((k) => k.dims));
  budget.charge(count(dims), `an element-wise op to [${dims}]`);
  const index = inputs.map((k) => broadcastIndex(k.dims, dims));
  const n = count(dims);
  const values = new Float64Array(n);
  let batch: Float64Array | null = null;
  for (let o = 0; o < n; o++) {
    const r = f(inputs.map((k, j) => ({ a: k.values[index[j][o]], b: k.batch ? k.batch[index[j][o]] : 0 })));
    values[o] = roundTo(dataType, r.a);
    if (r.b !== 0) (batch ??= new Float64Array(n))[o] = r.b;
  }
  return { dims, dataType, values, batch };
}

/** ONNX Transpose of a known tensor. */
export function transposeKnown(budget: FoldBudget, k: Known, perm: readonly number[]): Known {
  const dims = perm.map((p) => k.dims[p]);
  budget.charge(count(dims), `a Transpose to [${dims}]`);
  const inStrides = stridesOf(k.dims);
  const outStrides = stridesOf(dims);
  const from = new Int32Array(count(dims));
  for (let o = 0; o < from.length; o++) {
    let at = 0;
    for (let d = 0; d < dims.length; d++) at += (Math.floor(o / outStrides[d]) % dims[d]) * inStrides[perm[d]];
    from[o] = at;
  }
  return pick(k, dims, from);
}

/** Normalized ONNX Slice parameters for one axis of size `size` (clamped as ONNX does). */
export function sliceRange(size: number, start: number, end: number, step: number): { start: number; count: number } {
  if (step === 0) refuse('a Slice step of 0');
  const clampTo = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  if (step > 0) {
    s = clampTo(s, 0, size);
    e = clampTo(e, 0, size);
    return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = clampTo(s, -1, size - 1);
  e = clampTo(e, -1, size - 1);
  return { start: s, count: Math.max(0, Math.ceil((e - s) / step)) };
}

export function sliceKnown(budget: FoldBudget, k: Known, starts: number[], ends: number[], axes: number[], steps: number[]): Known {
  const rank = k.dims.length;
  const first = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const dims = [...k.dims];
  axes.forEach((axis, i) => {
    const ax = axis < 0 ? axis + rank : axis;
    if (ax < 0 || ax >= rank) refuse(`axis ${axis} out of range for rank ${rank}`);
    const r = sliceRange(k.dims[ax], starts[i], ends[i], steps[i]);
    first[ax] = r.start;
    step[ax] = steps[i];
    dims[ax] = r.count;
  });
  budget.charge(count(dims), `a Slice to [${dims}]`);
  const inStrides = stridesOf(k.dims);
  const outStrides = stridesOf(dims);
  const from = new Int32Array(count(dims));
  for (let o = 0; o < from.length; o++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += (first[d] + (Math.floor(o / outStrides[d]) % dims[d]) * step[d]) * inStrides[d];
    from[o] = at;
  }
  return pick(k, dims, from);
}

/** ONNX Gather along `axis` with integer indices (negative from the end). */
export function gatherKnown(budget: FoldBudget, k: Known, indices: Known, axis: number): Known {
  const rank = k.dims.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) refuse(`axis ${axis} out of range for rank ${rank}`);
  const size = k.dims[ax];
  const idx = intList(indices, 'indices').map((i) => {
    const j = i < 0 ? i + size : i;
    return j >= 0 && j < size ? j : refuse(`index ${i} out of range for a dimension of ${size}`);
  });
  const outer = count(k.dims.slice(0, ax));
  const inner = count(k.dims.slice(ax + 1));
  budget.charge(outer * idx.length * inner, `a Gather of ${idx.length} indices`);
  const from: number[] = [];
  for (let o = 0; o < outer; o++) for (const j of idx) for (let i = 0; i < inner; i++) from.push((o * size + j) * inner + i);
  return pick(k, [...k.dims.slice(0, ax), ...indices.dims, ...k.dims.slice(ax + 1)], from);
}

export function concatKnown(budget: FoldBudget, parts: readonly Known[], axis: number): Known {
  const rank = parts[0].dims.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) refuse(`axis ${axis} out of range for rank ${rank}`);
  for (const p of parts) {
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== ax && d !== parts[0].dims[i])) {
      refuse(`cannot concatenate [${parts[0].dims}] and [${p.dims}] along axis ${ax}`);
    }
  }
  const dims = [...parts[0].dims];
  dims[ax] = parts.reduce((s, p) => s + p.dims[ax], 0);
  budget.charge(count(dims), `a Concat to [${dims}]`);
  const outer = count(dims.slice(0, ax));
  const values = new Float64Array(count(dims));
  const batch = parts.some((p) => p.batch) ? new Float64Array(values.length) : null;
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = count(p.dims.slice(ax));
      values.set(p.values.subarray(o * block, (o + 1) * block), at);
      if (batch && p.batch) batch.set(p.batch.subarray(o * block, (o + 1) * block), at);
      at += block;
    }
  }
  return { dims, dataType: parts[0].dataType, values, batch: batch?.some((b) => b !== 0) ? batch : null };
}

/** ReduceMean/Sum/Max/Min/Prod over axes (null: all). */
export function reduceKnown(budget: FoldBudget, k: Known, axes: number[] | null, keepdims: boolean, kind: 'mean' | 'sum' | 'max' | 'min' | 'prod'): Known {
  const values = plainValues(k, 'the reduced tensor');
  budget.charge(values.length, `a reduction of [${k.dims}]`); // work: it reads every element
  const rank = k.dims.length;
  const reduced = new Set((axes ?? k.dims.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a)));
  const outDims = k.dims.map((d, i) => (reduced.has(i) ? 1 : d));
  const inStrides = stridesOf(k.dims);
  const outStrides = stridesOf(outDims);
  const n = count(outDims);
  const acc = new Float64Array(n).fill(kind === 'max' ? -Infinity : kind === 'min' ? Infinity : kind === 'prod' ? 1 : 0);
  for (let i = 0; i < values.length; i++) {
    let o = 0;
    for (let d = 0; d < rank; d++) if (!reduced.has(d)) o += (Math.floor(i / inStrides[d]) % k.dims[d]) * outStrides[d];
    const v = values[i];
    acc[o] = kind === 'max' ? Math.max(acc[o], v) : kind === 'min' ? Math.min(acc[o], v) : kind === 'prod' ? acc[o] * v : acc[o] + v;
  }
  const per = values.length / Math.max(1, n);
  const out = Float64Array.from(acc, (v) => roundTo(k.dataType, kind === 'mean' ? v / per : v));
  return { dims: keepdims ? outDims : k.dims.filter((_, i) => !reduced.has(i)), dataType: k.dataType, values: out, batch: null };
}

/** numpy matmul of known tensors, rank >= 1 (1-D operands promoted as numpy does). */
export function matmulKnown(budget: FoldBudget, a: Known, b: Known): Known {
  const av = plainValues(a, 'the first input');
  const bv = plainValues(b, 'the second input');
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const [m, k] = ad.slice(-2);
  const [k2, n] = bd.slice(-2);
  if (k !== k2) refuse(`cannot multiply [${a.dims}] by [${b.dims}]`);
  const lead = broadcastDims([ad.slice(0, -2), bd.slice(0, -2)]);
  budget.charge(count(lead) * m * n * Math.max(1, k), `a MatMul of [${a.dims}] by [${b.dims}]`); // work: m·n·k multiply-adds
  const ai = broadcastIndex(ad.slice(0, -2), lead);
  const bi = broadcastIndex(bd.slice(0, -2), lead);
  const out = new Float64Array(count(lead) * m * n);
  for (let l = 0; l < ai.length; l++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += av[ai[l] * m * k + i * k + t] * bv[bi[l] * k * n + t * n + j];
        out[(l * m + i) * n + j] = roundTo(a.dataType, s);
      }
    }
  }
  const dims = [...lead, ...(a.dims.length === 1 ? [] : [m]), ...(b.dims.length === 1 ? [] : [n])];
  return { dims, dataType: a.dataType, values: out, batch: null };
}
