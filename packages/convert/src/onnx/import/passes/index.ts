// The passes over a finished hnet graph, in order: moves first (Pad into a
// window, Transpose into Dense columns), then the fusions (whose patterns the
// folds would otherwise break up), then folds into layers — repeated until
// none applies, since one can open the way for another (Dense → Add → BatchNorm)
// — then cleanup.

import type { Model, Node } from '@hnet/format';
import { fuseGelu, fuseLayerNorm } from './fusions.js';
import { Graph } from './graph.js';
import { foldBatchNorm, foldBiasAdd, foldScale } from './layers.js';
import { foldPad, foldTransposeIntoDense, removeUnused } from './structure.js';

type Pass = (g: Graph, notes: string[]) => void;
type LayerFold = (g: Graph, node: Node, notes: string[]) => boolean;

const PASSES: Pass[] = [foldPad, foldTransposeIntoDense, fuseLayerNorm, fuseGelu];
const LAYER_FOLDS: LayerFold[] = [foldBiasAdd, foldBatchNorm, foldScale];

/** Runs every pass over `model` (changed in place and returned); `notes` gets one line per fold. */
export function runPasses(model: Model, notes: string[]): Model {
  const g = new Graph(model);
  for (const pass of PASSES) pass(g, notes);
  // Every fold on each node in graph order, so that one sweep folds a whole
  // chain (Dense → Mul → Add → Mul ...; a sweep per fold kind needed one round
  // per link). Each fold removes a node, so the rounds end.
  for (let folded = true; folded;) {
    folded = false;
    for (const node of [...g.nodes]) if (LAYER_FOLDS.some((fold) => fold(g, node, notes))) folded = true;
  }
  removeUnused(g);
  return g.model;
}
