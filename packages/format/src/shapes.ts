// Shape inference: the output shape of every op from its input shapes.
// Shared by validation (symbolic batch, -1) and the reference forward pass
// (concrete shapes). Errors name the node and say what did not fit.

import { formatShape as show } from './describe.js';
import { HnetFormatError } from './errors.js';
import type { ConvTransposeOp, Model, Node, Op, Pads4, Pair, ResizeOp, SliceOp } from './model.js';
import { MAX_DIMENSION } from './limits.js';

/** The symbolic batch dimension. */
export const BATCH = -1;

const fail = (where: string, detail: string): never => {
  throw new HnetFormatError('shape', where, detail);
};

/** Resolves a possibly negative axis against a rank, or fails. */
export function normalizeAxis(axis: number, rank: number, where: string, allowRank = false): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank || (a === rank && !allowRank)) fail(where, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Product of dimensions, or BATCH if any is symbolic. */
function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (d === BATCH) return BATCH;
    n *= d;
  }
  return n;
}

/** Output size of a pooled/convolved spatial dimension (ONNX formula). */
export function windowOutput(
  size: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number, ceilMode: boolean,
): number {
  const span = (kernel - 1) * dilation + 1;
  const room = size + padBegin + padEnd - span;
  let out = (ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  // ONNX/PyTorch: with ceil_mode the last window must start inside the input or the begin padding.
  if (ceilMode && (out - 1) * stride >= size + padBegin) out--;
  return out;
}

function spatial(
  where: string, x: readonly number[], kernel: Pair, strides: Pair, pads: Pads4, dilations: Pair, ceilMode: boolean,
): Pair {
  if (x.length !== 4) fail(where, `expects a 4-D input [N, C, H, W], got ${show(x)}`);
  // Checked here too, not only by validation: importers infer shapes before they validate.
  for (const [name, values] of [['kernel', kernel], ['strides', strides], ['dilations', dilations]] as const) {
    if (!values.every((v) => Number.isInteger(v) && v >= 1)) fail(where, `${name} must be integers >= 1, got [${values.join(', ')}]`);
  }
  if (!pads.every((v) => Number.isInteger(v) && v >= 0)) fail(where, `pads must be integers >= 0, got [${pads.join(', ')}]`);
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    const o = windowOutput(x[2 + i], kernel[i], strides[i], pads[i], pads[i + 2], dilations[i], ceilMode);
    if (!(o >= 1)) fail(where, `window ${kernel[0]}x${kernel[1]} does not fit input ${show(x)}`);
    out.push(o);
  }
  return out as Pair;
}

/** Numpy-style broadcast of two shapes (BATCH broadcasts like an unknown size). */
export function broadcastShapes(where: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (da === BATCH || db === BATCH) out.push(BATCH);
    else fail(where, `cannot broadcast ${show(a)} with ${show(b)}`);
  }
  return out;
}

/** ONNX Reshape: 0 copies the input dim, one -1 is inferred. */
function reshape(where: string, x: readonly number[], target: readonly number[]): number[] {
  const cannot = (): never => fail(where, `cannot reshape ${show(x)} to [${target.join(', ')}]`);
  const out = target.map((d, i) => {
    if (d === 0 && i >= x.length) fail(where, `shape entry ${i} is 0 but the input ${show(x)} has no dimension ${i}`);
    if (d < -1) cannot();
    return d === 0 ? x[i] : d;
  });
  const inferred = target.flatMap((d, i) => (d === -1 ? [i] : []));
  if (inferred.length > 1) fail(where, `shape [${target.join(', ')}] has more than one -1`);
  const others = out.filter((_, i) => i !== inferred[0]);
  if (inferred.length === 0) {
    if (product(x) !== BATCH && product(out) !== BATCH && product(x) !== product(out)) cannot();
    return out;
  }
  const i = inferred[0];
  const perExampleIn = product(x.filter((d) => d !== BATCH));
  const perExampleOthers = product(others.filter((d) => d !== BATCH));
  const inHasBatch = x.includes(BATCH);
  if (inHasBatch && !others.includes(BATCH)) {
    out[i] = BATCH; // the batch flows into the inferred dimension
  } else {
    // Both sides carry the batch (copied by a 0) or neither does: sizes must divide.
    if (perExampleIn % perExampleOthers !== 0) cannot();
    out[i] = perExampleIn / perExampleOthers;
  }
  return out;
}

/** Fails unless a dimension is a known size: ops that compute with a size cannot take the symbolic batch there. */
function known(where: string, d: number, what: string): number {
  if (d === BATCH) fail(where, `${what} is the batch dimension; this op needs a known size there`);
  return d;
}

/** Axes resolved against a rank, each once. */
export function normalizeAxes(axes: readonly number[], rank: number, where: string): number[] {
  const out = axes.map((a) => normalizeAxis(a, rank, where));
  const repeated = out.find((a, i) => out.indexOf(a) !== i);
  if (repeated !== undefined) fail(where, `axes [${axes.join(', ')}] name axis ${repeated} twice`);
  return out;
}

/** Two dimensions that must be equal; the symbolic batch equals only itself. */
function sameDimension(where: string, a: number, b: number, what: string): void {
  if (a !== b) fail(where, `${what}: ${a === BATCH ? 'N' : a} differs from ${b === BATCH ? 'N' : b}`);
}

/** ONNX Slice of one axis after clamping: first index, step and length. */
export function sliceRange(size: number, start: number, end: number, step: number): { first: number; step: number; length: number } {
  const resolve = (v: number): number => (v < 0 ? v + size : v);
  let first: number;
  let last: number;
  if (step > 0) {
    first = Math.min(Math.max(resolve(start), 0), size);
    last = Math.min(Math.max(resolve(end), 0), size);
  } else {
    first = Math.min(Math.max(resolve(start), 0), size - 1);
    last = Math.min(Math.max(resolve(end), -1), size - 1);
  }
  return { first, step, length: Math.max(0, Math.ceil((last - first) / step)) };
}

function slice(where: string, op: SliceOp, x: readonly number[]): number[] {
  const n = op.starts.length;
  if (op.ends.length !== n || op.axes.length !== n || op.steps.length !== n) {
    fail(where, `starts, ends, axes and steps must have one entry per sliced axis, got ${n}, ${op.ends.length}, ${op.axes.length}, ${op.steps.length}`);
  }
  const axes = normalizeAxes(op.axes, x.length, where);
  const out = [...x];
  axes.forEach((axis, i) => {
    const step = op.steps[i];
    if (!Number.isInteger(step) || step === 0) fail(where, `steps[${i}] must be a non-zero integer, got ${step}`);
    if (x[axis] === BATCH) {
      // The batch can only be kept whole: from its start to any end past every batch size.
      const whole = step === 1 && (op.starts[i] === 0 || op.starts[i] <= -MAX_DIMENSION) && op.ends[i] >= MAX_DIMENSION;
      if (!whole) fail(where, `slicing axis ${axis}, the batch dimension, must keep it whole (start 0, end >= 2^31 - 1, step 1)`);
      return;
    }
    const { length } = sliceRange(x[axis], op.starts[i], op.ends[i], step);
    if (length === 0) fail(where, `axis ${axis} of ${show(x)} sliced from ${op.starts[i]} to ${op.ends[i]} by ${step} is empty`);
    out[axis] = length;
  });
  return out;
}

function concat(where: string, axisField: number, inputs: readonly (readonly number[])[]): number[] {
  if (inputs.length === 0) fail(where, 'Concat needs at least one input');
  const first = inputs[0];
  const axis = normalizeAxis(axisField, first.length, where);
  const out = [...first];
  inputs.slice(1).forEach((s, k) => {
    if (s.length !== first.length) fail(where, `input ${k + 1} ${show(s)} has another rank than input 0 ${show(first)}`);
    s.forEach((d, i) => {
      if (i !== axis) sameDimension(where, d, first[i], `dimension ${i} of input ${k + 1} ${show(s)} and input 0 ${show(first)}`);
    });
    out[axis] = out[axis] === BATCH || s[axis] === BATCH ? BATCH : out[axis] + s[axis];
  });
  return out;
}

function reduce(where: string, axes: readonly number[] | null, keepdims: boolean, x: readonly number[]): number[] {
  const reduced = axes === null ? x.map((_, i) => i) : normalizeAxes(axes, x.length, where);
  if (keepdims) return x.map((d, i) => (reduced.includes(i) ? 1 : d));
  const out = x.filter((_, i) => !reduced.includes(i));
  if (out.length === 0) fail(where, `reducing every axis of ${show(x)} without keepdims leaves a scalar; hnet tensors have rank >= 1`);
  return out;
}

function transpose(where: string, perm: readonly number[], x: readonly number[]): number[] {
  const isPermutation = perm.length === x.length && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
  if (!isPermutation) fail(where, `perm [${perm.join(', ')}] is not a permutation of the ${x.length} axes of ${show(x)}`);
  return perm.map((p) => x[p]);
}

function matMul(where: string, a: readonly number[], b: readonly number[]): number[] {
  if (a.length < 2 || b.length < 2) fail(where, `MatMul needs inputs of rank >= 2, got ${show(a)} and ${show(b)}`);
  const [m, k] = a.slice(-2);
  const [k2, n] = b.slice(-2);
  sameDimension(where, k, k2, `the inner dimensions of ${show(a)} and ${show(b)}`);
  return [...broadcastShapes(where, a.slice(0, -2), b.slice(0, -2)), m, n];
}

function squeeze(where: string, axesField: readonly number[], x: readonly number[]): number[] {
  if (axesField.length === 0) fail(where, 'Squeeze needs at least one axis');
  const axes = normalizeAxes(axesField, x.length, where);
  for (const a of axes) if (x[a] !== 1) fail(where, `axis ${a} of ${show(x)} has size ${x[a] === BATCH ? 'N' : x[a]}, not 1`);
  const out = x.filter((_, i) => !axes.includes(i));
  if (out.length === 0) fail(where, `squeezing every axis of ${show(x)} leaves a scalar; hnet tensors have rank >= 1`);
  return out;
}

function unsqueeze(where: string, axesField: readonly number[], x: readonly number[]): number[] {
  if (axesField.length === 0) fail(where, 'Unsqueeze needs at least one axis');
  const rank = x.length + axesField.length;
  const axes = normalizeAxes(axesField, rank, where);
  const rest = [...x];
  return Array.from({ length: rank }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
}

function pad(where: string, pads: readonly number[], x: readonly number[]): number[] {
  if (pads.length !== 2 * x.length) fail(where, `pads has ${pads.length} entries; an input of rank ${x.length} needs ${2 * x.length} [begins..., ends...]`);
  if (!pads.every((p) => Number.isInteger(p) && p >= 0)) fail(where, `pads must be integers >= 0, got [${pads.join(', ')}]`);
  return x.map((d, i) => {
    const [begin, end] = [pads[i], pads[i + x.length]];
    if (begin === 0 && end === 0) return d;
    return known(where, d, `padded axis ${i}`) + begin + end;
  });
}

/** ONNX Resize output size: floor(size · scale), scale and product in float32 as the file stores it and onnxruntime computes it. */
export function resizedSize(size: number, scale: number): number {
  return Math.floor(Math.fround(size * Math.fround(scale)));
}

function resize(where: string, op: ResizeOp, x: readonly number[]): number[] {
  if (x.length !== 4) fail(where, `Resize expects a 4-D input [N, C, H, W], got ${show(x)}`);
  const out = [...x];
  for (let i = 0; i < 2; i++) {
    const scale = op.scales[i];
    if (!(Number.isFinite(scale) && scale > 0)) fail(where, `scales[${i}] must be finite and > 0, got ${scale}`);
    out[2 + i] = resizedSize(known(where, x[2 + i], `axis ${2 + i}`), scale);
    if (out[2 + i] < 1) fail(where, `scale ${scale} shrinks axis ${2 + i} of ${show(x)} to nothing`);
  }
  return out;
}

function convTranspose(where: string, op: ConvTransposeOp, x: readonly number[]): number[] {
  const [c, mPerGroup, kh, kw] = op.weight.shape;
  if (x.length !== 4) fail(where, `ConvTranspose expects a 4-D input [N, C, H, W], got ${show(x)}`);
  if (x[1] !== c) fail(where, `input has ${x[1] === BATCH ? 'N' : x[1]} channels but weight [${op.weight.shape.join(', ')}] needs ${c}`);
  if (!(Number.isInteger(op.group) && op.group >= 1 && c % op.group === 0)) fail(where, `group ${op.group} must be >= 1 and divide the ${c} input channels`);
  for (const [name, values] of [['strides', op.strides], ['dilations', op.dilations]] as const) {
    if (!values.every((v) => Number.isInteger(v) && v >= 1)) fail(where, `${name} must be integers >= 1, got [${values.join(', ')}]`);
  }
  for (const [name, values] of [['pads', op.pads], ['outputPadding', op.outputPadding]] as const) {
    if (!values.every((v) => Number.isInteger(v) && v >= 0)) fail(where, `${name} must be integers >= 0, got [${values.join(', ')}]`);
  }
  const kernel = [kh, kw];
  const out = [x[0], mPerGroup * op.group, 0, 0];
  for (let i = 0; i < 2; i++) {
    const size = known(where, x[2 + i], `axis ${2 + i}`);
    const o = op.strides[i] * (size - 1) + op.outputPadding[i] + (kernel[i] - 1) * op.dilations[i] + 1 - op.pads[i] - op.pads[i + 2];
    if (!(o >= 1)) fail(where, `the output along axis ${2 + i} would be ${o}: the pads [${op.pads.join(', ')}] remove more than the kernel adds`);
    out[2 + i] = o;
  }
  return out;
}

/** ONNX Expand: the input broadcast to `shape`, whose -1 is the graph's batch size. */
function expand(where: string, target: readonly number[], x: readonly number[], batch: number): number[] {
  if (!target.every((d) => d === -1 || (Number.isInteger(d) && d >= 1))) fail(where, `shape [${target.join(', ')}] needs sizes >= 1 or -1 (the batch)`);
  return broadcastShapes(where, x, target.map((d) => (d === -1 ? batch : d)));
}

function layerNorm(where: string, op: Extract<Op, { type: 'LayerNorm' }>, x: readonly number[]): number[] {
  const axis = normalizeAxis(op.axis, x.length, where);
  const normalized = x.slice(axis);
  for (const [name, w] of [['scale', op.scale], ['bias', op.bias]] as const) {
    if (!w) continue;
    const fits = w.shape.length === normalized.length && w.shape.every((d, i) => d === normalized[i]);
    if (!fits) fail(where, `${name} [${w.shape.join(', ')}] must have the shape ${show(normalized)} of the normalized axes ${axis}.. of ${show(x)}`);
  }
  return [...x];
}

/**
 * Output shape of one op, given its input shapes. `batch` is the size that
 * Expand's -1 stands for: BATCH (symbolic) unless the shapes are concrete.
 */
export function inferOpShape(where: string, op: Op, inputs: readonly (readonly number[])[], batch: number = BATCH): number[] {
  const x = inputs[0];
  switch (op.type) {
    case 'Dense': {
      const [outFeatures, inFeatures] = op.weight.shape;
      if (x.length !== 2) fail(where, `Dense expects a 2-D input [N, ${inFeatures}], got ${show(x)}; add a Flatten`);
      if (x[1] !== inFeatures) fail(where, `input ${show(x)} does not match weight [${outFeatures}, ${inFeatures}]`);
      return [x[0], outFeatures];
    }
    case 'Conv2D': {
      const [m, cPerGroup, kh, kw] = op.weight.shape;
      if (x.length !== 4) fail(where, `Conv2D expects a 4-D input [N, C, H, W], got ${show(x)}`);
      if (x[1] !== cPerGroup * op.group) {
        fail(where, `input has ${x[1]} channels but weight [${op.weight.shape.join(', ')}] with group ${op.group} needs ${cPerGroup * op.group}`);
      }
      const [oh, ow] = spatial(where, x, [kh, kw], op.strides, op.pads, op.dilations, false);
      return [x[0], m, oh, ow];
    }
    case 'ConvTranspose':
      return convTranspose(where, op, x);
    case 'MaxPool':
      return [x[0], x[1], ...spatial(where, x, op.kernel, op.strides, op.pads, op.dilations, op.ceilMode)];
    case 'AveragePool':
      return [x[0], x[1], ...spatial(where, x, op.kernel, op.strides, op.pads, [1, 1], op.ceilMode)];
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      if (x.length !== 4) fail(where, `${op.type} expects a 4-D input, got ${show(x)}`);
      return [x[0], x[1], 1, 1];
    case 'BatchNorm':
      if (x.length < 2) fail(where, `BatchNorm expects an input of rank >= 2, got ${show(x)}`);
      if (x[1] !== op.scale.length) fail(where, `input has ${x[1]} channels but the parameters have ${op.scale.length}`);
      return [...x];
    case 'LayerNorm':
      return layerNorm(where, op, x);
    case 'Flatten': {
      const axis = normalizeAxis(op.axis, x.length, where, true);
      return [product(x.slice(0, axis)), product(x.slice(axis))];
    }
    case 'Reshape':
      return reshape(where, x, op.shape);
    case 'Softmax':
    case 'LogSoftmax':
      normalizeAxis(op.axis, x.length, where);
      return [...x];
    case 'Add':
    case 'Mul':
    case 'Sub':
    case 'Div':
      return broadcastShapes(where, x, inputs[1]);
    case 'MatMul':
      return matMul(where, x, inputs[1]);
    case 'Constant':
      return [...op.value.shape];
    case 'Concat':
      return concat(where, op.axis, inputs);
    case 'Slice':
      return slice(where, op, x);
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
      return reduce(where, op.axes, op.keepdims, x);
    case 'Transpose':
      return transpose(where, op.perm, x);
    case 'Squeeze':
      return squeeze(where, op.axes, x);
    case 'Unsqueeze':
      return unsqueeze(where, op.axes, x);
    case 'Pad':
      return pad(where, op.pads, x);
    case 'Resize':
      return resize(where, op, x);
    case 'Expand':
      return expand(where, op.shape, x, batch);
    case 'Relu':
    case 'LeakyRelu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Clip':
    case 'HardSigmoid':
    case 'HardSwish':
    case 'Pow':
    case 'Sqrt':
    case 'Exp':
    case 'Erf':
    case 'Neg':
    case 'Gelu':
      return [...x];
  }
}

/** How many inputs an op takes: Constant none, Concat one or more, the element-wise binaries and MatMul two. */
export function arityOf(op: Op): { min: number; max: number } {
  switch (op.type) {
    case 'Constant':
      return { min: 0, max: 0 };
    case 'Concat':
      return { min: 1, max: Infinity };
    case 'Add':
    case 'Mul':
    case 'Sub':
    case 'Div':
    case 'MatMul':
      return { min: 2, max: 2 };
    default:
      return { min: 1, max: 1 };
  }
}

/** "2 inputs", "1 or more inputs": an arity as a message says it. */
export function formatArity({ min, max }: { min: number; max: number }): string {
  const count = min === max ? `${min}` : max === Infinity ? `${min} or more` : `${min} to ${max}`;
  return `${count} input${min === 1 && max === 1 ? '' : 's'}`;
}

export const nodeLabel = (node: Node, index: number): string =>
  `nodes[${index}]${node.name ? ` (${node.name}, ${node.op.type})` : ` (${node.op.type})`}`;

/**
 * Shapes of every tensor of a model: with the batch dimension symbolic
 * (BATCH), or at a concrete batch size that every input's -1 and Expand's -1
 * take (errors then say which). Assumes the graph structure is valid
 * (validateModel checks it first).
 */
export function inferShapes(model: Model, batch: number = BATCH): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const t of model.inputs) shapes.set(t.name, t.shape.map((d) => (d === BATCH ? batch : d)));
  const at = batch === BATCH ? '' : ` at batch ${batch}`;
  model.nodes.forEach((node, i) => {
    const inputShapes = node.inputs.map((name) => shapes.get(name)!);
    shapes.set(node.outputs[0], inferOpShape(`${nodeLabel(node, i)}${at}`, node.op, inputShapes, batch));
  });
  return shapes;
}
