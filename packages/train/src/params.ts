// What both engines train: the stored values of every Dense/Conv2D weight and
// bias (a hashed weight's K buckets, a plain weight's values in the format's
// row-major order), their initial values, and how trained values go back into
// a Model in each weight's storage dtype.

import { keyGrid, sizeOf, valuesFromFloat32, valuesToFloat32, type Model, type Node, type Op, type Weight } from '@hnet/format';
import { TrainError } from './errors.js';
import { quantizedDType, type QuantizedDType } from './quantize.js';
import { Rng } from './rng.js';

export type Init = 'project' | 'scratch';

export interface TrainableParam {
  /** "nodes[3].op.weight" — where it lives in the model */
  field: string;
  nodeIndex: number;
  role: 'weight' | 'bias';
  weight: Weight;
  /** Initial stored values (float32): buckets when hashed, else row-major virtual values. */
  values: Float32Array;
  /** int8/int4 when the forward fake-quantizes the values to their storage dtype (quantize.ts), else null. */
  quantized: QuantizedDType | null;
}

/**
 * The trainable arrays of a model, in node order (weight before bias).
 * 'project': the model's stored values; 'scratch': seeded Glorot-uniform weights, zero biases.
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
    if (op.type !== 'Dense' && op.type !== 'Conv2D') return;
    const make = (weight: Weight, role: 'weight' | 'bias'): void => {
      const stored = valuesToFloat32(weight.values);
      let values = stored;
      if (init === 'scratch') {
        values = new Float32Array(stored.length);
        if (role === 'weight') {
          const { rows, cols } = keyGrid(weight.shape);
          const receptive = cols / (op.type === 'Conv2D' ? weight.shape[1] : cols);
          const limit = Math.sqrt(6 / (cols + rows * receptive));
          for (let k = 0; k < values.length; k++) values[k] = (2 * rng.next() - 1) * limit;
        }
      }
      const quantized = quantizationAware ? quantizedDType(weight.values.dtype) : null;
      params.push({ field: `nodes[${i}].op.${role}`, nodeIndex: i, role, weight, values, quantized });
    };
    make(op.weight, 'weight');
    if (op.bias) make(op.bias, 'bias');
  });
  return params;
}

/** Stored and virtual parameter counts over all Dense/Conv2D weights and biases. */
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
    const copy = { ...node, inputs: [...node.inputs], outputs: [...node.outputs] };
    if (node.op.type !== 'Dense' && node.op.type !== 'Conv2D') return { ...copy, op: { ...node.op } as Op };
    const op = node.op;
    return { ...copy, op: { ...op, weight: written(op.weight, `nodes[${i}].op.weight`), bias: op.bias ? written(op.bias, `nodes[${i}].op.bias`) : null } };
  });
  return {
    inputs: model.inputs.map((t) => ({ ...t, shape: [...t.shape] })),
    outputs: model.outputs.map((t) => ({ ...t, shape: [...t.shape] })),
    nodes,
    metadata: { ...model.metadata },
  };
}
