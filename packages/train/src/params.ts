// What both engines train: the stored values of every weight of the model
// (weightsOf: Dense/Conv2D/ConvTranspose weight and bias, LayerNorm scale and
// bias, Constant value; a hashed weight's K buckets, a plain weight's values in
// the format's row-major order), their initial values, and how trained values
// go back into a Model in each weight's storage dtype.

import { keyGrid, sizeOf, valuesFromFloat32, valuesToFloat32, weightsOf, type Model, type Node, type Op, type Weight } from '@hnet/format';
import { TrainError } from './errors.js';
import { quantizedDType, type QuantizedDType } from './quantize.js';
import { Rng } from './rng.js';

export type Init = 'project' | 'scratch';

export interface TrainableParam {
  /** "nodes[3].op.weight", "nodes[5].op.scale" — where it lives in the model */
  field: string;
  nodeIndex: number;
  /** Its place in weightsOf(op): the first ('weight': a weight, a LayerNorm scale, a Constant value) or the bias. */
  role: 'weight' | 'bias';
  /**
   * A layer's weight (Dense, Conv2D, ConvTranspose): L2-decayed, Glorot at 'scratch'.
   * LayerNorm scales and Constant values are trained like biases: no decay.
   */
  layer: boolean;
  weight: Weight;
  /** Initial stored values (float32): buckets when hashed, else row-major virtual values. */
  values: Float32Array;
  /** int8/int4 when the forward fake-quantizes the values to their storage dtype (quantize.ts), else null. */
  quantized: QuantizedDType | null;
}

/** The op's fields that hold its weights, in weightsOf() order (the bias last). */
function weightFields(op: Op): { key: string; role: 'weight' | 'bias'; layer: boolean }[] {
  const w = weightsOf(op);
  if (!w) return [];
  const first = op.type === 'LayerNorm' ? 'scale' : op.type === 'Constant' ? 'value' : 'weight';
  const fields: { key: string; role: 'weight' | 'bias'; layer: boolean }[] = [{ key: first, role: 'weight', layer: first === 'weight' }];
  if (w.bias) fields.push({ key: 'bias', role: 'bias', layer: false });
  return fields;
}

/**
 * The trainable arrays of a model, in node order (weight before bias).
 * 'project': the model's stored values. 'scratch': seeded Glorot-uniform layer
 * weights, zero biases, LayerNorm as the identity (scale 1), Constants as stored
 * (a layer scale or an embedding has no fan to draw from).
 * quantizationAware: int8/int4 values are trained through their quantized form (quantize.ts).
 */
export function trainableParams(model: Model, init: Init = 'project', seed = 0, quantizationAware = false): TrainableParam[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TrainError('model', `the trainer needs a model with one input and one output (it has ${model.inputs.length} and ${model.outputs.length})`);
  }
  const rng = new Rng(seed ^ 0x5eed);
  const params: TrainableParam[] = [];
  model.nodes.forEach((node, i) => {
    const op = node.op;
    for (const { key, role, layer } of weightFields(op)) {
      const weight = (op as unknown as Record<string, Weight>)[key];
      const quantized = quantizationAware ? quantizedDType(weight.values.dtype) : null;
      params.push({ field: `nodes[${i}].op.${key}`, nodeIndex: i, role, layer, weight, values: initialValues(op, weight, role, layer, init, rng), quantized });
    }
  });
  return params;
}

function initialValues(op: Op, weight: Weight, role: 'weight' | 'bias', layer: boolean, init: Init, rng: Rng): Float32Array {
  const stored = valuesToFloat32(weight.values);
  if (init === 'project' || op.type === 'Constant') return stored;
  const values = new Float32Array(stored.length);
  if (op.type === 'LayerNorm' && role === 'weight') values.fill(1);
  if (layer) {
    // fan-in = cols, fan-out = rows · receptive field (KH·KW of a convolution, 1 of a Dense)
    const { rows, cols } = keyGrid(weight.shape);
    const receptive = cols / (op.type === 'Dense' ? cols : weight.shape[1]);
    const limit = Math.sqrt(6 / (cols + rows * receptive));
    for (let k = 0; k < values.length; k++) values[k] = (2 * rng.next() - 1) * limit;
  }
  return values;
}

/** Stored and virtual parameter counts over all trainable weights. */
export function parameterCounts(params: readonly TrainableParam[]): { stored: number; virtual: number } {
  let stored = 0;
  let virtual = 0;
  for (const p of params) {
    stored += p.values.length;
    virtual += sizeOf(p.weight.shape);
  }
  return { stored, virtual };
}

/** The name of the logits: the input of a final Softmax/LogSoftmax on the last axis, else the output. */
export function logitsName(model: Model): string {
  const output = model.outputs[0];
  const last = model.nodes.find((n) => n.outputs.includes(output.name));
  const op = last?.op;
  const lastAxis = (axis: number) => axis === -1 || axis === output.shape.length - 1;
  return (op?.type === 'Softmax' || op?.type === 'LogSoftmax') && lastAxis(op.axis) ? last!.inputs[0] : output.name;
}

/** The model with trained values (same order as trainableParams; buckets or row-major), each in its weight's storage dtype. */
export function withValues(model: Model, params: readonly { field: string }[], values: readonly Float32Array[]): Model {
  const byField = new Map(params.map((p, k) => [p.field, values[k]]));
  const written = (w: Weight, field: string): Weight => ({
    shape: [...w.shape],
    hash: w.hash ? { ...w.hash } : null,
    values: valuesFromFloat32(byField.get(field)!, w.values.dtype),
  });
  const nodes: Node[] = model.nodes.map((node, i) => {
    const op: Record<string, unknown> = { ...node.op };
    for (const { key } of weightFields(node.op)) op[key] = written(op[key] as Weight, `nodes[${i}].op.${key}`);
    return { ...node, inputs: [...node.inputs], outputs: [...node.outputs], op: op as unknown as Op };
  });
  return {
    inputs: model.inputs.map((t) => ({ ...t, shape: [...t.shape] })),
    outputs: model.outputs.map((t) => ({ ...t, shape: [...t.shape] })),
    nodes,
    metadata: { ...model.metadata },
  };
}
