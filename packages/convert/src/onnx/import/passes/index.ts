// The passes over a finished hnet graph, in order: moves first (Pad into a
// window, Transpose into Dense columns), then the fusions (whose patterns the
// folds would otherwise break up), then folds into layers — repeated until
// none applies, since one can open the way for another (Dense → Add → BatchNorm)
// — then cleanup.

import type { Model } from '@hnet/format';
import { fuseGelu, fuseLayerNorm } from './fusions.js';
import { Graph } from './graph.js';
import { foldBatchNorm, foldBiasAdd, foldScale } from './layers.js';
import { foldPad, foldTransposeIntoDense, removeUnused } from './structure.js';

type Pass = (g: Graph, notes: string[]) => void;

const PASSES: Pass[] = [foldPad, foldTransposeIntoDense, fuseLayerNorm, fuseGelu];
const LAYER_FOLDS: Pass[] = [foldBiasAdd, foldBatchNorm, foldScale];

/** Runs every pass over `model` (changed in place and returned); `notes` gets one line per fold. */
export function runPasses(model: Model, notes: string[]): Model {
  const g = new Graph(model);
  for (const pass of PASSES) pass(g, notes);
  for (let before = -1; before !== g.nodes.length;) {
    before = g.nodes.length;
    for (const fold of LAYER_FOLDS) fold(g, notes);
  }
  removeUnused(g);
  return g.model;
}
