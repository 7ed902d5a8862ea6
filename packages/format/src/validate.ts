// Validation of an in-memory model: every rule of docs/FORMAT.md that is not
// already enforced by the FlatBuffers layout. encode() runs it before writing
// and decode() after reading, so no invalid model crosses the file boundary.

import { HnetFormatError } from './errors.js';
import { MAX_ALIGNED_BLOCK, MAX_BLOCK, RUN_ALIGN } from './hash.js';
import type { Model, Op, ResizeOp, TensorInfo, Weight } from './model.js';
import { OP_TYPES, sizeOf } from './model.js';
import { MAX_DIMENSION, MAX_ELEMENTS, MAX_GEOMETRY, MAX_RANK, MAX_WORK } from './limits.js';
import { arityOf, BATCH, formatArity, inferOpShape, inferShapes, nodeLabel } from './shapes.js';

const UINT32_MAX = 0xffffffff;
const INT32_MIN = -0x80000000;

const invalid = (field: string, detail: string): never => {
  throw new HnetFormatError('invalid-field', field, detail);
};
const graphError = (field: string, detail: string): never => {
  throw new HnetFormatError('graph', field, detail);
};
const overLimit = (field: string, detail: string): never => {
  throw new HnetFormatError('limit', field, detail);
};

const isUint32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= UINT32_MAX;
const isPositiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= UINT32_MAX;

export function validateWeight(weight: Weight, field: string, rank: number): void {
  if (weight.shape.length !== rank) invalid(`${field}.shape`, `expected ${rank} dimensions, got [${weight.shape.join(', ')}]`);
  weight.shape.forEach((d, i) => {
    if (!isPositiveInt(d)) invalid(`${field}.shape[${i}]`, `dimension must be a positive integer, got ${d}`);
    if (d > MAX_DIMENSION) overLimit(`${field}.shape[${i}]`, `dimension ${d} is above the cap of ${MAX_DIMENSION}`);
  });
  const virtual = sizeOf(weight.shape);
  if (virtual > MAX_ELEMENTS) {
    overLimit(`${field}.shape`, `[${weight.shape.join(', ')}] has ${virtual} virtual values, more than the cap of 2^28`);
  }
  const count = weight.values.data.length;
  if (count === 0) invalid(`${field}.values.count`, 'K = 0: a weight needs at least one stored value');
  const { values } = weight;
  if ((values.dtype === 'int8' || values.dtype === 'int4') && !(Number.isFinite(values.scale) && values.scale > 0)) {
    invalid(`${field}.values.scale`, `${values.dtype} scale must be finite and > 0, got ${values.scale}`);
  }
  if (values.dtype === 'int4') {
    const bad = values.data.findIndex((q) => q < -7 || q > 7);
    if (bad >= 0) invalid(`${field}.values.data`, `int4 value ${bad} is ${values.data[bad]}, outside [-7, 7]`);
  }
  if (weight.hash === null) {
    if (count !== virtual) {
      invalid(`${field}.values.count`, `a plain weight of shape [${weight.shape.join(', ')}] needs ${virtual} values, got ${count}`);
    }
    return;
  }
  const { algorithm, bucketSeed, signSeed } = weight.hash;
  if (algorithm === 'xxh32-block') {
    const z = weight.hash.block;
    if (!(Number.isInteger(z) && z >= 1 && z <= MAX_BLOCK)) invalid(`${field}.hash.block`, `xxh32-block needs a block of 1..${MAX_BLOCK} columns, got ${z}`);
  } else if (algorithm === 'xxh32-aligned-block') {
    const z = weight.hash.block;
    if (!(Number.isInteger(z) && z >= RUN_ALIGN && z <= MAX_ALIGNED_BLOCK && z % RUN_ALIGN === 0)) {
      invalid(`${field}.hash.block`, `xxh32-aligned-block needs a block of ${RUN_ALIGN}, ${2 * RUN_ALIGN}, .., ${MAX_ALIGNED_BLOCK} columns, got ${z}`);
    }
  } else if (algorithm !== 'xxh32') invalid(`${field}.hash.algorithm`, `unknown hash algorithm ${String(algorithm)}`);
  if (!isUint32(bucketSeed)) invalid(`${field}.hash.bucket_seed`, `must be a uint32, got ${bucketSeed}`);
  if (signSeed !== null && !isUint32(signSeed)) invalid(`${field}.hash.sign_seed`, `must be a uint32, got ${signSeed}`);
  // More buckets than virtual values would store more than the plain weight.
  if (count > virtual) {
    invalid(`${field}.values.count`, `K = ${count} exceeds the virtual size ${virtual} of the hashed weight [${weight.shape.join(', ')}]; store it plain`);
  }
}

/** A weight whose rank is its own (Constant, LayerNorm): 1..8 dimensions. */
function validateWeightOfAnyRank(weight: Weight, field: string): void {
  const rank = weight.shape.length;
  if (rank === 0) invalid(`${field}.shape`, 'a weight needs at least one dimension');
  if (rank > MAX_RANK) overLimit(`${field}.shape`, `rank ${rank} is above the cap of ${MAX_RANK}`);
  validateWeight(weight, field, rank);
}

const isInt32 = (n: number): boolean => Number.isInteger(n) && n >= INT32_MIN && n <= MAX_DIMENSION;

/** A list of axes: 1..8 int32 values (negative counts from the end), none twice as written. */
function validateAxes(field: string, axes: readonly number[]): void {
  if (axes.length === 0) invalid(field, 'needs at least one axis');
  if (axes.length > MAX_RANK) overLimit(field, `${axes.length} axes is above the rank cap of ${MAX_RANK}`);
  axes.forEach((a, i) => {
    if (!isInt32(a)) invalid(`${field}[${i}]`, `must be an int32, got ${a}`);
    if (axes.indexOf(a) !== i) invalid(`${field}[${i}]`, `axis ${a} is listed twice`);
  });
}

function validateAxis(field: string, axis: number): void {
  if (!isInt32(axis)) invalid(field, `must be an int32, got ${axis}`);
}

function validateFinite(field: string, value: number): void {
  if (!Number.isFinite(value)) invalid(field, `must be finite, got ${value}`);
}

/** Window geometry (kernel, strides, pads, dilations): integers in [min, 2^28]. */
function validatePairs(field: string, values: readonly number[], length: number, min: number): void {
  if (values.length !== length) invalid(field, `expected ${length} values, got ${values.length}`);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < min) invalid(`${field}[${i}]`, `expected an integer >= ${min}, got ${v}`);
    if (v > MAX_GEOMETRY) overLimit(`${field}[${i}]`, `${v} is above the cap of 2^28`);
  });
}

function validateOp(op: Op, field: string): void {
  switch (op.type) {
    case 'Dense':
      validateWeight(op.weight, `${field}.weight`, 2);
      if (op.bias) {
        validateWeight(op.bias, `${field}.bias`, 1);
        if (op.bias.shape[0] !== op.weight.shape[0]) {
          invalid(`${field}.bias.shape`, `bias [${op.bias.shape}] does not match ${op.weight.shape[0]} outputs`);
        }
      }
      return;
    case 'Conv2D':
      validateWeight(op.weight, `${field}.weight`, 4);
      validatePairs(`${field}.strides`, op.strides, 2, 1);
      validatePairs(`${field}.pads`, op.pads, 4, 0);
      validatePairs(`${field}.dilations`, op.dilations, 2, 1);
      if (!isPositiveInt(op.group) || op.group > MAX_DIMENSION || op.weight.shape[0] % op.group !== 0) {
        invalid(`${field}.group`, `group ${op.group} must be >= 1 and divide the ${op.weight.shape[0]} output channels`);
      }
      if (op.bias) {
        validateWeight(op.bias, `${field}.bias`, 1);
        if (op.bias.shape[0] !== op.weight.shape[0]) {
          invalid(`${field}.bias.shape`, `bias [${op.bias.shape}] does not match ${op.weight.shape[0]} output channels`);
        }
      }
      return;
    case 'MaxPool':
    case 'AveragePool':
      validatePairs(`${field}.kernel`, op.kernel, 2, 1);
      validatePairs(`${field}.strides`, op.strides, 2, 1);
      validatePairs(`${field}.pads`, op.pads, 4, 0);
      if (op.type === 'MaxPool') validatePairs(`${field}.dilations`, op.dilations, 2, 1);
      for (let i = 0; i < 2; i++) {
        if (op.pads[i] >= op.kernel[i] || op.pads[i + 2] >= op.kernel[i]) invalid(`${field}.pads`, 'padding must be smaller than the kernel');
      }
      return;
    case 'BatchNorm': {
      const c = op.scale.length;
      if (c === 0) invalid(`${field}.scale`, 'no channels');
      for (const key of ['bias', 'mean', 'variance'] as const) {
        if (op[key].length !== c) invalid(`${field}.${key}`, `expected ${c} values like scale, got ${op[key].length}`);
      }
      if (!(op.epsilon >= 0)) invalid(`${field}.epsilon`, `must be >= 0, got ${op.epsilon}`);
      return;
    }
    case 'LeakyRelu':
      if (!Number.isFinite(op.alpha)) invalid(`${field}.alpha`, `must be finite, got ${op.alpha}`);
      return;
    case 'Softmax':
    case 'LogSoftmax':
    case 'Flatten':
      if (!(Number.isInteger(op.axis) && op.axis >= INT32_MIN && op.axis <= MAX_DIMENSION)) invalid(`${field}.axis`, `must be an int32, got ${op.axis}`);
      return;
    case 'Reshape': {
      if (op.shape.length === 0) invalid(`${field}.shape`, 'empty target shape');
      if (op.shape.length > MAX_RANK) overLimit(`${field}.shape`, `rank ${op.shape.length} is above the cap of ${MAX_RANK}`);
      op.shape.forEach((d, i) => {
        if (!(Number.isInteger(d) && d >= -1)) invalid(`${field}.shape[${i}]`, `expected -1 (inferred), 0 (copied) or a size, got ${d}`);
        if (d > MAX_ELEMENTS) overLimit(`${field}.shape[${i}]`, `${d} is above the cap of 2^28`);
      });
      if (op.shape.filter((d) => d === -1).length > 1) invalid(`${field}.shape`, `[${op.shape.join(', ')}] has more than one -1`);
      return;
    }
    case 'Constant':
      validateWeightOfAnyRank(op.value, `${field}.value`);
      return;
    case 'Concat':
      validateAxis(`${field}.axis`, op.axis);
      return;
    case 'Slice': {
      const n = op.starts.length;
      if (n === 0) invalid(`${field}.starts`, 'needs at least one sliced axis');
      for (const key of ['ends', 'axes', 'steps'] as const) {
        if (op[key].length !== n) invalid(`${field}.${key}`, `has ${op[key].length} entries but starts has ${n}`);
      }
      validateAxes(`${field}.axes`, op.axes);
      for (const key of ['starts', 'ends', 'steps'] as const) {
        op[key].forEach((v, i) => {
          if (!Number.isSafeInteger(v)) invalid(`${field}.${key}[${i}]`, `must be an integer within ±2^53, got ${v}`);
        });
      }
      op.steps.forEach((v, i) => {
        if (v === 0) invalid(`${field}.steps[${i}]`, 'a step of 0 never advances');
      });
      return;
    }
    case 'Clip':
      if (op.min !== null) validateFinite(`${field}.min`, op.min);
      if (op.max !== null) validateFinite(`${field}.max`, op.max);
      return;
    case 'HardSigmoid':
      validateFinite(`${field}.alpha`, op.alpha);
      validateFinite(`${field}.beta`, op.beta);
      return;
    case 'Pow':
      validateFinite(`${field}.exponent`, op.exponent);
      return;
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
      // All axes is null, not [], so that the file (no vector) and the model agree.
      if (op.axes !== null) validateAxes(`${field}.axes`, op.axes);
      return;
    case 'Transpose': {
      const n = op.perm.length;
      if (n === 0) invalid(`${field}.perm`, 'needs at least one axis');
      if (n > MAX_RANK) overLimit(`${field}.perm`, `${n} axes is above the rank cap of ${MAX_RANK}`);
      const isPermutation = [...op.perm].sort((a, b) => a - b).every((p, i) => p === i);
      if (!isPermutation) invalid(`${field}.perm`, `[${op.perm.join(', ')}] is not a permutation of 0..${n - 1}`);
      return;
    }
    case 'LayerNorm':
      validateAxis(`${field}.axis`, op.axis);
      if (!(Number.isFinite(op.epsilon) && op.epsilon >= 0)) invalid(`${field}.epsilon`, `must be finite and >= 0, got ${op.epsilon}`);
      validateWeightOfAnyRank(op.scale, `${field}.scale`);
      if (op.bias) {
        validateWeightOfAnyRank(op.bias, `${field}.bias`);
        const same = op.bias.shape.length === op.scale.shape.length && op.bias.shape.every((d, i) => d === op.scale.shape[i]);
        if (!same) invalid(`${field}.bias.shape`, `bias [${op.bias.shape}] does not match scale [${op.scale.shape}]`);
      }
      return;
    case 'Squeeze':
    case 'Unsqueeze':
      validateAxes(`${field}.axes`, op.axes);
      return;
    case 'Pad': {
      const n = op.pads.length;
      if (n === 0 || n % 2 !== 0) invalid(`${field}.pads`, `needs [begins..., ends...], an even number of entries >= 2, got ${n}`);
      if (n > 2 * MAX_RANK) overLimit(`${field}.pads`, `${n / 2} axes is above the rank cap of ${MAX_RANK}`);
      op.pads.forEach((p, i) => {
        if (!(Number.isInteger(p) && p >= 0)) invalid(`${field}.pads[${i}]`, `expected an integer >= 0, got ${p}`);
        if (p > MAX_GEOMETRY) overLimit(`${field}.pads[${i}]`, `${p} is above the cap of 2^28`);
      });
      if (Number.isNaN(op.value)) invalid(`${field}.value`, 'must be a number, got NaN');
      return;
    }
    case 'Resize':
      if (!RESIZE_MODES.includes(op.mode)) invalid(`${field}.mode`, `unknown mode ${String(op.mode)}`);
      if (!RESIZE_COORDINATES.includes(op.coordinates)) invalid(`${field}.coordinates`, `unknown coordinate transformation ${String(op.coordinates)}`);
      if (!RESIZE_NEAREST.includes(op.nearest)) invalid(`${field}.nearest`, `unknown nearest mode ${String(op.nearest)}`);
      if (op.scales.length !== 2) invalid(`${field}.scales`, `expected [scale_h, scale_w], got ${op.scales.length} values`);
      op.scales.forEach((v, i) => {
        if (!(Number.isFinite(v) && v > 0)) invalid(`${field}.scales[${i}]`, `must be finite and > 0, got ${v}`);
        if (v > MAX_GEOMETRY) overLimit(`${field}.scales[${i}]`, `${v} is above the cap of 2^28`);
      });
      return;
    case 'ConvTranspose': {
      validateWeight(op.weight, `${field}.weight`, 4);
      validatePairs(`${field}.strides`, op.strides, 2, 1);
      validatePairs(`${field}.pads`, op.pads, 4, 0);
      validatePairs(`${field}.dilations`, op.dilations, 2, 1);
      validatePairs(`${field}.output_padding`, op.outputPadding, 2, 0);
      op.outputPadding.forEach((p, i) => {
        // ONNX: output padding only fills the gap a stride or dilation leaves, never a whole step.
        if (p >= Math.max(op.strides[i], op.dilations[i])) {
          invalid(`${field}.output_padding[${i}]`, `${p} must be smaller than the stride ${op.strides[i]} or the dilation ${op.dilations[i]}`);
        }
      });
      const [c, mPerGroup] = op.weight.shape;
      if (!isPositiveInt(op.group) || op.group > MAX_DIMENSION || c % op.group !== 0) {
        invalid(`${field}.group`, `group ${op.group} must be >= 1 and divide the ${c} input channels`);
      }
      if (mPerGroup * op.group > MAX_DIMENSION) overLimit(`${field}.group`, `${mPerGroup} x ${op.group} output channels is above the cap of ${MAX_DIMENSION}`);
      if (op.bias) {
        validateWeight(op.bias, `${field}.bias`, 1);
        if (op.bias.shape[0] !== mPerGroup * op.group) {
          invalid(`${field}.bias.shape`, `bias [${op.bias.shape}] does not match ${mPerGroup * op.group} output channels`);
        }
      }
      return;
    }
    case 'Expand':
      if (op.shape.length === 0) invalid(`${field}.shape`, 'empty target shape');
      if (op.shape.length > MAX_RANK) overLimit(`${field}.shape`, `rank ${op.shape.length} is above the cap of ${MAX_RANK}`);
      op.shape.forEach((d, i) => {
        if (!(d === -1 || isPositiveInt(d))) invalid(`${field}.shape[${i}]`, `expected -1 (the batch) or a size >= 1, got ${d}`);
        if (d > MAX_ELEMENTS) overLimit(`${field}.shape[${i}]`, `${d} is above the cap of 2^28`);
      });
      if (op.shape.filter((d) => d === -1).length > 1) invalid(`${field}.shape`, `[${op.shape.join(', ')}] has more than one -1: the batch is one dimension`);
      return;
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'Add':
    case 'Mul':
    case 'Sub':
    case 'Div':
    case 'HardSwish':
    case 'Sqrt':
    case 'Exp':
    case 'Erf':
    case 'Neg':
    case 'MatMul':
    case 'Gelu':
      return;
    default: {
      const unknown: never = op; // every op type has a case above
      invalid(field, `unknown op type ${String((unknown as Op).type)}`);
    }
  }
}

/** Resize's enums in the schema's order: a name's index is its value in the file (ResizeMode, ResizeCoordinates, ResizeNearest). */
export const RESIZE_MODES: readonly ResizeOp['mode'][] = ['nearest', 'linear'];
export const RESIZE_COORDINATES: readonly ResizeOp['coordinates'][] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'];
export const RESIZE_NEAREST: readonly ResizeOp['nearest'][] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** A declared shape (of a graph input or output, or any tensor in the file): rank 1..8, entries -1 or 1..2^28. */
export function validateTensorShape(name: string, shape: readonly number[], field: string): void {
  if (shape.length === 0) invalid(field, `tensor "${name}" needs a shape`);
  if (shape.length > MAX_RANK) overLimit(field, `tensor "${name}" has rank ${shape.length}, above the cap of ${MAX_RANK}`);
  shape.forEach((d, i) => {
    if (!(d === BATCH || isPositiveInt(d))) invalid(`${field}[${i}]`, `expected -1 (the batch) or a size >= 1, got ${d}`);
    if (d > MAX_ELEMENTS) overLimit(`${field}[${i}]`, `size ${d} is above the cap of 2^28`);
  });
}

function validateTensorInfo(t: TensorInfo, field: string, isInput: boolean): void {
  if (!t.name) invalid(`${field}.name`, 'empty tensor name');
  validateTensorShape(t.name, t.shape, `${field}.shape`);
  // An input's -1 is the batch, one size for all; an output's -1 matches any size the graph computes.
  if (isInput && t.shape.filter((d) => d === BATCH).length > 1) {
    invalid(`${field}.shape`, `[${t.shape.join(', ')}] has more than one -1: the batch is one dimension`);
  }
}

/**
 * Checks a model: fields, graph structure (every tensor produced once and
 * before use, no cycle), and shapes. Throws HnetFormatError naming the field.
 */
export function validateModel(model: Model): void {
  if (model.inputs.length === 0) invalid('inputs', 'a model needs at least one input');
  if (model.outputs.length === 0) invalid('outputs', 'a model needs at least one output');
  model.inputs.forEach((t, i) => validateTensorInfo(t, `inputs[${i}]`, true));
  model.outputs.forEach((t, i) => validateTensorInfo(t, `outputs[${i}]`, false));

  // Who produces each tensor: -1 for a graph input, else the node index.
  const producer = new Map<string, number>();
  model.inputs.forEach((t, i) => {
    if (producer.has(t.name)) graphError(`inputs[${i}]`, `tensor "${t.name}" is declared twice`);
    producer.set(t.name, -1);
  });
  const listedOutputs = new Set<string>();
  model.outputs.forEach((t, i) => {
    if (listedOutputs.has(t.name)) graphError(`outputs[${i}]`, `tensor "${t.name}" is listed twice`);
    listedOutputs.add(t.name);
  });
  model.nodes.forEach((node, i) => {
    const where = nodeLabel(node, i);
    if (!OP_TYPES.includes(node.op.type)) invalid(`${where}.op`, `unknown op type ${String(node.op.type)}`);
    validateOp(node.op, `${where}.op`);
    const arity = arityOf(node.op);
    if (node.inputs.length < arity.min || node.inputs.length > arity.max) {
      graphError(`${where}.inputs`, `${node.op.type} takes ${formatArity(arity)}, got ${node.inputs.length}`);
    }
    if (node.outputs.length !== 1) graphError(`${where}.outputs`, `expected 1 output, got ${node.outputs.length}`);
    for (const name of node.outputs) {
      if (!name) invalid(`${where}.outputs`, 'empty tensor name');
      if (producer.has(name)) graphError(`${where}.outputs`, `tensor "${name}" is already produced by ${describeProducer(model, producer.get(name)!)}`);
      producer.set(name, i);
    }
  });
  model.nodes.forEach((node, i) => {
    node.inputs.forEach((name, j) => {
      const from = producer.get(name);
      if (from === undefined) graphError(`${nodeLabel(node, i)}.inputs[${j}]`, `tensor "${name}" is not produced by any node or graph input`);
      if (from! >= i) {
        const cycle = findCycle(model, producer);
        if (cycle) graphError('nodes', `the graph has a cycle: ${cycle.join(' -> ')}`);
        graphError(`${nodeLabel(node, i)}.inputs[${j}]`, `tensor "${name}" is produced later, by ${describeProducer(model, from!)}; nodes must be in topological order`);
      }
    });
  });
  model.outputs.forEach((t, i) => {
    if (!producer.has(t.name)) graphError(`outputs[${i}]`, `output "${t.name}" is not produced by any node or graph input`);
  });

  const hasBatch = model.inputs.some((t) => t.shape.includes(BATCH));
  model.nodes.forEach((node, i) => {
    if (node.op.type === 'Expand' && node.op.shape.includes(-1) && !hasBatch) {
      invalid(`${nodeLabel(node, i)}.op.shape`, `-1 stands for the batch size, but no graph input has a batch dimension (-1)`);
    }
  });

  const shapes = inferShapes(model);
  model.outputs.forEach((t, i) => {
    const inferred = shapes.get(t.name)!;
    const fits = inferred.length === t.shape.length && inferred.every((d, k) => d === t.shape[k] || d === BATCH || t.shape[k] === BATCH);
    if (!fits) {
      throw new HnetFormatError('shape', `outputs[${i}].shape`, `declared [${t.shape.join(', ')}] but the graph computes [${inferred.join(', ')}] for "${t.name}"`);
    }
  });
  checkLimits(model);
}

/**
 * The caps of limits.ts, measured as the WASM runtime measures them when it
 * loads a file: shapes at batch 1, per node and summed over the model. Runs
 * in time linear in the number of nodes, whatever the sizes.
 */
function checkLimits(model: Model): void {
  const shapes = new Map<string, number[]>();
  for (const t of model.inputs) shapes.set(t.name, t.shape.map((d) => (d === BATCH ? 1 : d)));
  let work = 0;
  model.nodes.forEach((node, i) => {
    const where = nodeLabel(node, i);
    const x = shapes.get(node.inputs[0])!;
    const { op } = node;
    if (op.type === 'Conv2D' || op.type === 'MaxPool' || op.type === 'AveragePool') {
      if (x.length === 4 && (x[2] + op.pads[0] + op.pads[2] > MAX_GEOMETRY || x[3] + op.pads[1] + op.pads[3] > MAX_GEOMETRY)) {
        overLimit(where, `the padded input of [${x.join(', ')}] with pads [${op.pads.join(', ')}] is larger than the cap of 2^28 along an axis`);
      }
    }
    const out = inferOpShape(where, op, node.inputs.map((name) => shapes.get(name)!), 1);
    if (out.length > MAX_RANK) overLimit(where, `output rank ${out.length} is above the cap of ${MAX_RANK}`);
    const size = sizeOf(out);
    if (size > MAX_ELEMENTS) overLimit(where, `output [${out.join(', ')}] at batch 1 has ${size} elements, more than the cap of 2^28`);
    work += workOf(op, node.inputs.map((name) => shapes.get(name)!), size);
    if (work > MAX_WORK) overLimit(where, `the model needs more than 2^36 multiply-adds per example (${work} up to this node)`);
    if (op.type === 'Conv2D') {
      // The runtime's scratch for one image: taps plus a padded copy (stride 1 along W), else an im2col matrix.
      const cols = sizeOf(op.weight.shape.slice(1));
      const padded = op.pads.some((p) => p > 0);
      const scratch = op.strides[1] === 1
        ? cols + 4 + (padded ? (x[1] / op.group) * (x[2] + op.pads[0] + op.pads[2]) * (x[3] + op.pads[1] + op.pads[3]) : 0)
        : out[2] * out[3] * cols;
      if (scratch > MAX_ELEMENTS) overLimit(where, `the convolution's scratch has ${scratch} elements, more than the cap of 2^28`);
    }
    shapes.set(node.outputs[0], out);
  });
  checkOutputsAt(model, shapes, 1);
  // Batch 2 too: a graph whose shapes only fit at batch 1 (a Flatten over the
  // batch, say) is refused by every reader, not only when it first runs.
  checkOutputsAt(model, inferShapes(model, 2), 2);
}

/**
 * Work of one node for one example (limits.ts, MAX_WORK): multiply-adds for the
 * ops with a weight or an inner dimension, window reads for pools, elements read
 * for reductions and global pools, and output elements for every other op.
 */
function workOf(op: Op, inputs: readonly number[][], outputSize: number): number {
  switch (op.type) {
    case 'Dense':
    case 'Conv2D':
      return outputSize * sizeOf(op.weight.shape.slice(1));
    case 'ConvTranspose': // every input element scatters M/group x KH x KW products
      return sizeOf(inputs[0]) * sizeOf(op.weight.shape.slice(1));
    case 'MatMul':
      return outputSize * inputs[0][inputs[0].length - 1];
    case 'MaxPool':
    case 'AveragePool':
      return outputSize * op.kernel[0] * op.kernel[1];
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'GlobalAveragePool': // each reads its whole input for an output of N x C
    case 'GlobalMaxPool':
      return sizeOf(inputs[0]);
    default:
      return outputSize;
  }
}

function checkOutputsAt(model: Model, shapes: Map<string, number[]>, batch: number): void {
  model.outputs.forEach((t, i) => {
    const computed = shapes.get(t.name)!;
    if (computed.length !== t.shape.length || !t.shape.every((d, k) => d === BATCH || d === computed[k])) {
      throw new HnetFormatError('shape', `outputs[${i}].shape`, `declared [${t.shape.join(', ')}] but the graph computes [${computed.join(', ')}] for "${t.name}" at batch ${batch}`);
    }
  });
}

function describeProducer(model: Model, index: number): string {
  return index < 0 ? 'a graph input' : nodeLabel(model.nodes[index], index);
}

/** A cycle among nodes as a list of node labels, or null. Iterative: graphs can be deep. */
function findCycle(model: Model, producer: Map<string, number>): string[] | null {
  const state = new Uint8Array(model.nodes.length); // 0 new, 1 on the path, 2 done
  const parentsOf = (i: number): number[] =>
    model.nodes[i].inputs.map((name) => producer.get(name) ?? -1).filter((from) => from >= 0);
  for (let root = 0; root < model.nodes.length; root++) {
    if (state[root]) continue;
    const path: { node: number; next: number }[] = [{ node: root, next: 0 }];
    state[root] = 1;
    while (path.length) {
      const top = path[path.length - 1];
      const parents = parentsOf(top.node);
      if (top.next === parents.length) {
        state[top.node] = 2;
        path.pop();
        continue;
      }
      const p = parents[top.next++];
      if (state[p] === 1) {
        const nodes = path.slice(path.findIndex((e) => e.node === p)).map((e) => e.node);
        return [...nodes, p].map((k) => nodeLabel(model.nodes[k], k));
      }
      if (state[p] === 0) {
        state[p] = 1;
        path.push({ node: p, next: 0 });
      }
    }
  }
  return null;
}
