// The loss on logits [N, K] and its gradient, the same math as the tfjs engine:
//   ce      = −mean_N Σ_K target · logsoftmax(s)            ∂/∂s = (softmax(s) − target) / N
//   distill = T² · mean_N KL(softmax(t/T) ‖ softmax(s/T))   ∂/∂s = T · (softmax(s/T) − softmax(t/T)) / N
//   loss    = alpha · ce + (1 − alpha) · distill
// target is one-hot [N, K]; t the teacher's logits [N, K]. In a graph of
// several steps, step t's inputs are target@t and teacher@t (`at` = '@t').

import type { GraphBuilder } from './graph.js';

export interface LossSpec {
  alpha: number;
  temperature: number;
}

export function emitLoss(g: GraphBuilder, logits: string, n: number, classes: number, spec: LossSpec, at = ''): { loss: string; dLogits: string } {
  const { alpha, temperature: T } = spec;
  const terms: string[] = [];
  const grads: string[] = [];
  if (alpha > 0) {
    const target = g.input(`target${at}`, 'float32', [n, classes]);
    const logp = g.op('LogSoftmax', [logits], { axis: 1 }, 'ce.logp');
    const ce = g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [logp, target])], { keepdims: 0 }), g.scalar(-1 / n)], {}, 'ce');
    terms.push(g.op('Mul', [ce, g.scalar(alpha)]));
    grads.push(g.op('Mul', [g.op('Sub', [g.op('Exp', [logp]), target]), g.scalar(alpha / n)], {}, 'ce.ds'));
  }
  if (alpha < 1) {
    const teacher = g.input(`teacher${at}`, 'float32', [n, classes]);
    const logpt = g.op('LogSoftmax', [g.op('Div', [teacher, g.scalar(T)])], { axis: 1 }, 'kd.logpt');
    const pt = g.op('Exp', [logpt], {}, 'kd.pt');
    const logq = g.op('LogSoftmax', [g.op('Div', [logits, g.scalar(T)])], { axis: 1 }, 'kd.logq');
    const kl = g.op('ReduceSum', [g.op('Mul', [pt, g.op('Sub', [logpt, logq])])], { keepdims: 0 });
    terms.push(g.op('Mul', [kl, g.scalar(((1 - alpha) * T * T) / n)], {}, 'kd'));
    grads.push(g.op('Mul', [g.op('Sub', [g.op('Exp', [logq]), pt]), g.scalar(((1 - alpha) * T) / n)], {}, 'kd.ds'));
  }
  const sum = (xs: string[], hint: string) => xs.reduce((a, b) => g.op('Add', [a, b], {}, hint));
  return { loss: sum(terms, 'loss.sum'), dLogits: sum(grads, 'dlogits') };
}
