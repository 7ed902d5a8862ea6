// Shape inference: the output shape of every op from its input shapes.
// Shared by validation (symbolic batch, -1) and the reference forward pass
// (concrete shapes). Errors name the node and say what did not fit.

import { formatShape as show } from './describe.js';
import { HnetFormatError } from './errors.js';
import type { Model, Node, Op, Pads4, Pair } from './model.js';
import { pending11 } from './pending.js'; // PENDING-1.1

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

/** Output shape of one op, given its input shapes. */
export function inferOpShape(where: string, op: Op, inputs: readonly (readonly number[])[]): number[] {
  const x = inputs[0];
  switch (op.type) {
    default:
      return pending11(where, op.type); // PENDING-1.1
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
    case 'MaxPool':
      return [x[0], x[1], ...spatial(where, x, op.kernel, op.strides, op.pads, op.dilations, op.ceilMode)];
    case 'AveragePool':
      return [x[0], x[1], ...spatial(where, x, op.kernel, op.strides, op.pads, [1, 1], op.ceilMode)];
    case 'GlobalAveragePool':
      if (x.length !== 4) fail(where, `GlobalAveragePool expects a 4-D input, got ${show(x)}`);
      return [x[0], x[1], 1, 1];
    case 'BatchNorm':
      if (x.length < 2) fail(where, `BatchNorm expects an input of rank >= 2, got ${show(x)}`);
      if (x[1] !== op.scale.length) fail(where, `input has ${x[1]} channels but the parameters have ${op.scale.length}`);
      return [...x];
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
      return broadcastShapes(where, x, inputs[1]);
    case 'Relu':
    case 'LeakyRelu':
    case 'Sigmoid':
    case 'Tanh':
      return [...x];
  }
}

/** How many inputs each op takes. */
export function arityOf(op: Op): number {
  return op.type === 'Add' ? 2 : 1;
}

export const nodeLabel = (node: Node, index: number): string =>
  `nodes[${index}]${node.name ? ` (${node.name}, ${node.op.type})` : ` (${node.op.type})`}`;

/**
 * Shapes of every tensor of a model (BATCH for the symbolic batch dimension).
 * Assumes the graph structure is valid (validateModel checks it first).
 */
export function inferShapes(model: Model): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const t of model.inputs) shapes.set(t.name, [...t.shape]);
  model.nodes.forEach((node, i) => {
    const inputShapes = node.inputs.map((name) => shapes.get(name)!);
    shapes.set(node.outputs[0], inferOpShape(nodeLabel(node, i), node.op, inputShapes));
  });
  return shapes;
}
