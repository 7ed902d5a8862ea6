// Compiles a @hnet/format Model into one ONNX graph for a fixed batch size N:
//   'logits'    x → logits                                         (validation, evaluation, teachers)
//   'gradients' x, targets → loss, logits, ∂loss/∂param             (tests, finite differences)
//   'step'      x, targets, lr, params, state → loss, logits, params', state'   (training)
// Forward and backward of each op come from ops/; hashed weights from
// hashed.ts; the loss from loss.ts; the update from optimizer.ts.
//
// Graph inputs/outputs by name: x [N, ...]; target, teacher [N, K];
// lr []; mask.<j> (dropout, one per masked activation); param.<k>;
// state.<k>.<s>; outputs loss [], logits [N, K], grad.<k>, param.<k>.next,
// state.<k>.<s>.next. Parameters come in their stored layout: K buckets
// when hashed, else the format's row-major [out, in] / [M, C/g, KH, KW].

import { inferOpShape, nodeLabel, weightsOf, type Model } from '@hnet/format';
import { TrainError } from '../errors.js';
import { logitsName, type TrainableParam } from '../params.js';
import { GraphBuilder } from './graph.js';
import { emitBucketGradient, emitVirtual, hashConstants, type HashArrays, type HashConstants } from './hashed.js';
import { emitLoss, type LossSpec } from './loss.js';
import { emitFakeQuantize } from './quantize.js';
import { ruleOf } from './ops/index.js';
import type { Saved } from './ops/rule.js';
import { emitUpdate, stateSlots, type OptimizerSpec } from './optimizer.js';

export type GraphKind = 'logits' | 'gradients' | 'step';

export interface StepSpec {
  loss: LossSpec;
  optimizer: OptimizerSpec;
  /** L2 decay added to the gradient of weights (not biases). */
  weightDecay: number;
  /** Dropout rate on the outputs of hidden activations; the masks are inputs. */
  dropout: number;
  /** Parameter k's rate is lr × rateFactors[k] (a constant in the graph). */
  rateFactors: readonly number[];
}

/** A trainable parameter as the compiler sees it: its values' layout, and hash arrays when hashed. */
export interface CompiledParam {
  param: TrainableParam;
  hash: HashArrays | null;
}

export interface CompiledGraph {
  bytes: Uint8Array;
  batch: number;
  classes: number;
  /** Shapes of the dropout masks mask.0, mask.1, … */
  masks: number[][];
}

const DROPPED = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh']);

/** Shapes of every tensor at batch size n (Expand's -1 included, which inferShapes leaves symbolic). */
export function shapesAt(model: Model, n: number): Map<string, number[]> {
  const input = model.inputs[0];
  const shapes = new Map([[input.name, [n, ...input.shape.slice(1)]]]);
  model.nodes.forEach((node, i) => {
    shapes.set(node.outputs[0], inferOpShape(nodeLabel(node, i), node.op, node.inputs.map((name) => shapes.get(name)!), n));
  });
  return shapes;
}

export function compile(model: Model, params: readonly CompiledParam[], kind: GraphKind, n: number, spec: StepSpec | null): CompiledGraph {
  if (kind !== 'logits' && !spec) throw new Error(`compile: a '${kind}' graph needs a step spec`);
  const g = new GraphBuilder();
  const shapes = shapesAt(model, n);
  const input = model.inputs[0];
  const logits = logitsName(model);
  const logitsShape = shapes.get(logits)!;
  if (logitsShape.length !== 2) throw new TrainError('model', `the model output must be [N, classes] for classification, got [${logitsShape}]`);
  const classes = logitsShape[1];

  // Parameters, and the virtual weight of each.
  const paramInputs = params.map((p, k) => g.input(`param.${k}`, 'float32', p.hash ? [p.param.values.length] : p.param.weight.shape));
  const constants: (HashConstants | null)[] = params.map((p, k) => (p.hash ? hashConstants(g, p.hash, `p${k}`) : null));
  // Quantization-aware: the forward reads the values as stored (int8/int4); the gradient reaches the float ones straight through.
  const stored = params.map((p, k) => (p.param.quantized ? emitFakeQuantize(g, paramInputs[k], p.param.quantized, `p${k}`) : paramInputs[k]));
  const virtual = params.map((p, k) => (p.hash ? emitVirtual(g, stored[k], p.hash, constants[k]!, `p${k}`) : stored[k]));
  const paramOf = new Map(params.map((p, k) => [`${p.param.nodeIndex}.${p.param.role}`, k]));

  // Forward, up to the logits.
  const names = new Map<string, string>([[input.name, g.input('x', 'float32', shapes.get(input.name)!)]]);
  const dropout = kind === 'logits' ? 0 : spec!.dropout;
  const masks: number[][] = [];
  const saved: { index: number; s: Saved; mask: string | null }[] = [];
  for (let i = 0; i < model.nodes.length && !names.has(logits); i++) {
    const node = model.nodes[i];
    const where = nodeLabel(node, i);
    const x = node.inputs.map((name) => {
      const t = names.get(name);
      if (!t) throw new TrainError('model', `${where}: input tensor '${name}' is not produced before use`);
      return t;
    });
    const w = paramOf.get(`${i}.weight`);
    const b = paramOf.get(`${i}.bias`);
    const f = {
      x, xShapes: node.inputs.map((name) => shapes.get(name)!), yShape: shapes.get(node.outputs[0])!,
      weight: w === undefined ? null : virtual[w], bias: b === undefined ? null : virtual[b], where,
    };
    const { y, extra = {} } = ruleOf(node.op).forward(g, node.op, f);
    let out = y;
    let mask: string | null = null;
    if (dropout > 0 && DROPPED.has(node.op.type) && node.outputs[0] !== model.outputs[0].name) {
      mask = g.input(`mask.${masks.length}`, 'float32', f.yShape);
      masks.push(f.yShape);
      out = g.op('Mul', [y, mask], {}, 'dropout');
    }
    names.set(node.outputs[0], out);
    saved.push({ index: i, s: { ...f, y, extra }, mask });
  }
  const logitsTensor = names.get(logits);
  if (!logitsTensor) throw new TrainError('model', `output '${logits}' is not produced by any node`);
  g.output(logitsTensor, 'logits', 'float32', logitsShape);
  if (kind === 'logits') return { bytes: g.toBytes(), batch: n, classes, masks };

  // Loss, then backward in reverse node order, accumulating the gradient of every tensor.
  const { loss, dLogits } = emitLoss(g, logitsTensor, n, classes, spec!.loss);
  g.output(loss, 'loss', 'float32', []);
  const dependsOnParams = new Set<string>();
  for (const { index } of saved) {
    const node = model.nodes[index];
    if (weightsOf(node.op) || node.inputs.some((t) => dependsOnParams.has(t))) dependsOnParams.add(node.outputs[0]);
  }
  const grads = new Map<string, string>([[logits, dLogits]]);
  const dVirtual: (string | null)[] = params.map(() => null);
  for (const { index, s, mask } of [...saved].reverse()) {
    const node = model.nodes[index];
    let dy = grads.get(node.outputs[0]);
    if (!dy) continue;
    if (mask) dy = g.op('Mul', [dy, mask], {}, 'dropout.dx');
    const want = node.inputs.map((t) => dependsOnParams.has(t));
    const r = ruleOf(node.op).backward(g, node.op, s, dy, want);
    r.dx.forEach((d, k) => {
      if (!d) return;
      const name = node.inputs[k];
      const before = grads.get(name);
      grads.set(name, before ? g.op('Add', [before, d], {}, 'dsum') : d);
    });
    const w = paramOf.get(`${index}.weight`);
    const b = paramOf.get(`${index}.bias`);
    if (w !== undefined && r.dWeight) dVirtual[w] = r.dWeight;
    if (b !== undefined && r.dBias) dVirtual[b] = r.dBias;
  }

  // Stored-value gradients (+ weight decay), then the update.
  const lr = kind === 'step' ? g.input('lr', 'float32', []) : '';
  params.forEach((p, k) => {
    const dims = p.hash ? [p.param.values.length] : p.param.weight.shape;
    const dv = dVirtual[k] ?? g.op('ConstantOfShape', [g.ints(p.hash ? p.hash.shape : dims)], {}, `p${k}.unused`);
    let grad = p.hash ? emitBucketGradient(g, dv, p.hash, constants[k]!, `p${k}`) : dv;
    if (spec!.weightDecay > 0 && p.param.layer) grad = g.op('Add', [grad, g.op('Mul', [paramInputs[k], g.scalar(spec!.weightDecay)])], {}, `p${k}.decayed`);
    if (kind === 'gradients') return g.output(grad, `grad.${k}`, 'float32', dims);
    const state = Array.from({ length: stateSlots(spec!.optimizer) }, (_, s) => g.input(`state.${k}.${s}`, 'float32', dims));
    const factor = spec!.rateFactors[k];
    const rate = factor === 1 ? lr : g.op('Mul', [lr, g.scalar(factor)], {}, `p${k}.lr`);
    const next = emitUpdate(g, spec!.optimizer, paramInputs[k], grad, state, rate);
    g.output(next.value, `param.${k}.next`, 'float32', dims);
    next.state.forEach((t, s) => g.output(t, `state.${k}.${s}.next`, 'float32', dims));
  });
  return { bytes: g.toBytes(), batch: n, classes, masks };
}
