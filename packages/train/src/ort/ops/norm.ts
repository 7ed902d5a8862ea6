// LayerNorm over the trailing axes from `axis` on, with a trainable scale (and bias):
//   x̂ = (x − mean) · inv, inv = 1/√(var + ε);  y = x̂ · scale + bias
//   dscale = Σ_lead dy · x̂,  dbias = Σ_lead dy   (lead: the axes before `axis`)
//   dx = inv · (g − mean(g) − x̂ · mean(g · x̂)),  g = dy · scale, means over the normalized axes

import { normalizeAxis, type LayerNormOp } from '@hnet/format';
import type { OpRule } from './rule.js';

function axesOf(op: LayerNormOp, rank: number, where: string): { lead: number[]; normalized: number[] } {
  const axis = normalizeAxis(op.axis, rank, where);
  const all = [...Array(rank).keys()];
  return { lead: all.slice(0, axis), normalized: all.slice(axis) };
}

export const layerNorm: OpRule<LayerNormOp> = {
  forward(g, op, f) {
    const { normalized } = axesOf(op, f.xShapes[0].length, f.where);
    const mean = (t: string) => g.op('ReduceMean', [t, g.ints(normalized)], { keepdims: 1 });
    const centred = g.op('Sub', [f.x[0], mean(f.x[0])]);
    const variance = mean(g.op('Mul', [centred, centred]));
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(op.epsilon)])])], {}, 'layernorm.inv');
    const xhat = g.op('Mul', [centred, inv], {}, 'layernorm.xhat');
    const scaled = g.op('Mul', [xhat, f.weight!]);
    return { y: f.bias ? g.op('Add', [scaled, f.bias], {}, 'layernorm') : scaled, extra: { inv, xhat } };
  },
  backward(g, op, s, dy, want) {
    const { lead, normalized } = axesOf(op, s.xShapes[0].length, s.where);
    const { inv, xhat } = s.extra;
    const overLead = (t: string, hint: string) => (lead.length ? g.op('ReduceSum', [t, g.ints(lead)], { keepdims: 0 }, hint) : t);
    let dx: string | null = null;
    if (want[0]) {
      const mean = (t: string) => g.op('ReduceMean', [t, g.ints(normalized)], { keepdims: 1 });
      const gx = g.op('Mul', [dy, s.weight!]);
      const inner = g.op('Sub', [g.op('Sub', [gx, mean(gx)]), g.op('Mul', [xhat, mean(g.op('Mul', [gx, xhat]))])]);
      dx = g.op('Mul', [inner, inv], {}, 'layernorm.dx');
    }
    return {
      dx: [dx],
      dWeight: overLead(g.op('Mul', [dy, xhat]), 'layernorm.dscale'),
      dBias: s.bias ? overLead(dy, 'layernorm.dbias') : undefined,
    };
  },
};
