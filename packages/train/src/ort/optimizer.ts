// The update rules as ONNX nodes, the same math as the tfjs engine. Each
// parameter's optimiser state comes in as graph inputs and leaves as outputs.
//   SGD (PyTorch form): v ← μv + g; w ← w − lr·(nesterov ? g + μv : v); μ = 0: w ← w − lr·g
//   Adam: m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²; w ← w − lrₜ·m/(√v + ε),
//         lrₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ) computed by the engine and fed as `lr`.

import type { GraphBuilder } from './graph.js';

export type OptimizerSpec = { name: 'sgd'; momentum: number; nesterov: boolean } | { name: 'adam'; beta1: number; beta2: number; epsilon: number };

/** How many state arrays (each the parameter's size) the optimiser keeps per parameter. */
export function stateSlots(spec: OptimizerSpec): number {
  return spec.name === 'adam' ? 2 : spec.momentum > 0 ? 1 : 0;
}

/** The Adam step size at step t (1-based); SGD uses lr as is. */
export function effectiveRate(spec: OptimizerSpec, lr: number, t: number): number {
  return spec.name === 'adam' ? (lr * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t) : lr;
}

/** New value and new state of one parameter w with gradient grad. */
export function emitUpdate(g: GraphBuilder, spec: OptimizerSpec, w: string, grad: string, state: string[], lr: string): { value: string; state: string[] } {
  const mul = (a: string, b: number | string) => g.op('Mul', [a, typeof b === 'number' ? g.scalar(b) : b]);
  if (spec.name === 'adam') {
    const m = g.op('Add', [mul(state[0], spec.beta1), mul(grad, 1 - spec.beta1)], {}, 'adam.m');
    const v = g.op('Add', [mul(state[1], spec.beta2), mul(g.op('Mul', [grad, grad]), 1 - spec.beta2)], {}, 'adam.v');
    const step = g.op('Div', [m, g.op('Add', [g.op('Sqrt', [v]), g.scalar(spec.epsilon)])]);
    return { value: g.op('Sub', [w, mul(step, lr)], {}, 'adam.w'), state: [m, v] };
  }
  if (spec.momentum === 0) return { value: g.op('Sub', [w, mul(grad, lr)], {}, 'sgd.w'), state: [] };
  const v = g.op('Add', [mul(state[0], spec.momentum), grad], {}, 'sgd.v');
  const update = spec.nesterov ? g.op('Add', [grad, mul(v, spec.momentum)]) : v;
  return { value: g.op('Sub', [w, mul(update, lr)], {}, 'sgd.w'), state: [v] };
}
