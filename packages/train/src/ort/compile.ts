// Compiles a @hnet/format Model into one ONNX graph for a fixed batch size N:
//   'logits'    x → logits                                         (validation, evaluation, teachers)
//   'gradients' x, targets → loss, logits, ∂loss/∂param             (tests, finite differences)
//   'step'      S × (x, targets, lr), params, state → S × (loss, logits), params', state'
//               (training: S steps in a row, one batch each)
// Forward and backward of each op come from ops/; hashed weights from
// hashed.ts; the loss from loss.ts; the update from optimizer.ts.
//
// Graph inputs/outputs by name: x [N, ...]; target, teacher [N, K];
// lr []; mask.<j> (dropout, one per masked activation); param.<k>;
// state.<k>.<s>; outputs loss [], logits [N, K], grad.<k>, param.<k>.next,
// state.<k>.<s>.next. In a step graph the per-step names carry the step:
// x@0, target@0, lr@0, mask.0@0, loss@0, logits@0, x@1, … Parameters come in their stored layout: K buckets
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
  /** Shapes of the dropout masks mask.0, mask.1, … (of each step) */
  masks: number[][];
  /** Steps per run (1 but in a step graph). */
  steps: number;
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

export function compile(model: Model, params: readonly CompiledParam[], kind: GraphKind, n: number, spec: StepSpec | null, steps = 1): CompiledGraph {
  if (kind !== 'logits' && !spec) throw new Error(`compile: a '${kind}' graph needs a step spec`);
  if (!(Number.isInteger(steps) && steps >= 1) || (kind !== 'step' && steps !== 1)) throw new Error(`compile: ${steps} steps in a '${kind}' graph`);
  const g = new GraphBuilder();
  const shapes = shapesAt(model, n);
  const logits = logitsName(model);
  const logitsShape = shapes.get(logits)!;
  if (logitsShape.length !== 2) throw new TrainError('model', `the model output must be [N, classes] for classification, got [${logitsShape}]`);
  const classes = logitsShape[1];
  const m: Compiling = { g, model, params, shapes, classes, constants: [], paramOf: new Map(params.map((p, k) => [`${p.param.nodeIndex}.${p.param.role}`, k])) };
  const dims = (p: CompiledParam) => (p.hash ? [p.param.values.length] : p.param.weight.shape);
  const paramInputs = params.map((p, k) => g.input(`param.${k}`, 'float32', dims(p)));
  m.constants = params.map((p, k) => (p.hash ? hashConstants(g, p.hash, `p${k}`) : null));

  if (kind === 'logits') {
    const { logits: y } = emitForward(m, paramInputs, g.input('x', 'float32', shapes.get(model.inputs[0].name)!), 0, () => '');
    g.output(y, 'logits', 'float32', logitsShape);
    return { bytes: g.toBytes(), batch: n, classes, masks: [], steps };
  }

  if (kind === 'gradients') {
    const { loss, grads } = emitLossAndGradients(m, paramInputs, spec!, '');
    g.output(loss, 'loss', 'float32', []);
    grads.forEach((grad, k) => g.output(grad, `grad.${k}`, 'float32', dims(params[k])));
    return { bytes: g.toBytes(), batch: n, classes, masks: m.masks ?? [], steps };
  }

  // 'step': `steps` updates in a row, each on its own batch, the values and
  // optimiser state of one feeding the next. A run hands every output to JS
  // as a fresh copy (onnxruntime-node 1.30 copies even into pre-allocated
  // outputs), so several steps per run copy a dense layer's values once
  // instead of once per step.
  let values = paramInputs;
  let state = params.map((p, k) => Array.from({ length: stateSlots(spec!.optimizer) }, (_, s) => g.input(`state.${k}.${s}`, 'float32', dims(p))));
  for (let t = 0; t < steps; t++) {
    const at = `@${t}`;
    const { loss, grads } = emitLossAndGradients(m, values, spec!, at);
    g.output(loss, `loss${at}`, 'float32', []);
    const lr = g.input(`lr${at}`, 'float32', []);
    const next = params.map((p, k) => {
      const factor = spec!.rateFactors[k];
      const rate = factor === 1 ? lr : g.op('Mul', [lr, g.scalar(factor)], {}, `p${k}.lr`);
      return emitUpdate(g, spec!.optimizer, values[k], grads[k], state[k], rate);
    });
    values = next.map((u) => u.value);
    state = next.map((u) => u.state);
  }
  params.forEach((p, k) => {
    g.output(values[k], `param.${k}.next`, 'float32', dims(p));
    state[k].forEach((t, s) => g.output(t, `state.${k}.${s}.next`, 'float32', dims(p)));
  });
  return { bytes: g.toBytes(), batch: n, classes, masks: m.masks ?? [], steps };
}

/** What the emitters of one graph share. */
interface Compiling {
  g: GraphBuilder;
  model: Model;
  params: readonly CompiledParam[];
  shapes: Map<string, number[]>;
  classes: number;
  constants: (HashConstants | null)[];
  paramOf: Map<string, number>;
  /** Dropout mask shapes, the same in every step (set by the first forward that has dropout). */
  masks?: number[][];
}

interface Forwarded {
  logits: string;
  saved: { index: number; s: Saved; mask: string | null }[];
}

/** The forward pass on parameter tensors `values`, up to the logits; mask j is the input named by maskName(j). */
function emitForward(m: Compiling, values: readonly string[], x: string, dropout: number, maskName: (j: number) => string): Forwarded {
  const { g, model, params, shapes } = m;
  const logits = logitsName(model);
  // Quantization-aware: the forward reads the values as stored (int8/int4); the gradient reaches the float ones straight through.
  const stored = params.map((p, k) => (p.param.quantized ? emitFakeQuantize(g, values[k], p.param.quantized, `p${k}`) : values[k]));
  const virtual = params.map((p, k) => (p.hash ? emitVirtual(g, stored[k], p.hash, m.constants[k]!, `p${k}`) : stored[k]));
  const names = new Map<string, string>([[model.inputs[0].name, x]]);
  const masks: number[][] = [];
  const saved: Forwarded['saved'] = [];
  for (let i = 0; i < model.nodes.length && !names.has(logits); i++) {
    const node = model.nodes[i];
    const where = nodeLabel(node, i);
    const xs = node.inputs.map((name) => {
      const t = names.get(name);
      if (!t) throw new TrainError('model', `${where}: input tensor '${name}' is not produced before use`);
      return t;
    });
    const w = m.paramOf.get(`${i}.weight`);
    const b = m.paramOf.get(`${i}.bias`);
    const f = {
      x: xs, xShapes: node.inputs.map((name) => shapes.get(name)!), yShape: shapes.get(node.outputs[0])!,
      weight: w === undefined ? null : virtual[w], bias: b === undefined ? null : virtual[b], where,
    };
    const { y, extra = {} } = ruleOf(node.op).forward(g, node.op, f);
    let out = y;
    let mask: string | null = null;
    if (dropout > 0 && DROPPED.has(node.op.type) && node.outputs[0] !== model.outputs[0].name) {
      mask = g.input(maskName(masks.length), 'float32', f.yShape);
      masks.push(f.yShape);
      out = g.op('Mul', [y, mask], {}, 'dropout');
    }
    names.set(node.outputs[0], out);
    saved.push({ index: i, s: { ...f, y, extra }, mask });
  }
  const logitsTensor = names.get(logits);
  if (!logitsTensor) throw new TrainError('model', `output '${logits}' is not produced by any node`);
  if (dropout > 0) m.masks ??= masks;
  return { logits: logitsTensor, saved };
}

/**
 * Forward, loss and backward of one batch (inputs x<at>, target<at>,
 * teacher<at>, mask.<j><at>; output logits<at>): the loss and the gradient of
 * each stored parameter (+ weight decay).
 */
function emitLossAndGradients(m: Compiling, values: readonly string[], spec: StepSpec, at: string): { loss: string; grads: string[] } {
  const { g, model, params, shapes, classes } = m;
  const n = shapes.get(model.inputs[0].name)![0];
  const x = g.input(`x${at}`, 'float32', shapes.get(model.inputs[0].name)!);
  const { logits, saved } = emitForward(m, values, x, spec.dropout, (j) => `mask.${j}${at}`);
  g.output(logits, `logits${at}`, 'float32', [n, classes]);

  // Loss, then backward in reverse node order, accumulating the gradient of every tensor.
  const { loss, dLogits } = emitLoss(g, logits, n, classes, spec.loss, at);
  const dependsOnParams = new Set<string>();
  for (const { index } of saved) {
    const node = model.nodes[index];
    if (weightsOf(node.op) || node.inputs.some((t) => dependsOnParams.has(t))) dependsOnParams.add(node.outputs[0]);
  }
  const grads = new Map<string, string>([[logitsName(model), dLogits]]);
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
    const w = m.paramOf.get(`${index}.weight`);
    const b = m.paramOf.get(`${index}.bias`);
    if (w !== undefined && r.dWeight) dVirtual[w] = r.dWeight;
    if (b !== undefined && r.dBias) dVirtual[b] = r.dBias;
  }

  // Stored-value gradients (+ weight decay).
  const stored = params.map((p, k) => {
    const dv = dVirtual[k] ?? g.op('ConstantOfShape', [g.ints(p.hash ? p.hash.shape : p.param.weight.shape)], {}, `p${k}.unused`);
    let grad = p.hash ? emitBucketGradient(g, dv, p.hash, m.constants[k]!, `p${k}`) : dv;
    if (spec.weightDecay > 0 && p.param.layer) grad = g.op('Add', [grad, g.op('Mul', [values[k], g.scalar(spec.weightDecay)])], {}, `p${k}.decayed`);
    return grad;
  });
  return { loss, grads: stored };
}
