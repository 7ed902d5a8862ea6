// The passes over a finished hnet graph, in order: moves first (Pad into a
// window, Transpose into Dense columns), then the fusions (whose patterns the
// folds would otherwise break up), then folds into layers, then cleanup.

import type { Model } from '@hnet/format';
import { fuseGelu, fuseLayerNorm } from './fusions.js';
import { Graph } from './graph.js';
import { foldBatchNorm, foldBiasAdd, foldScale } from './layers.js';
import { foldPad, foldTransposeIntoDense, removeUnused } from './structure.js';

const PASSES: ((g: Graph, notes: string[]) => void)[] = [
  foldPad, foldTransposeIntoDense, fuseLayerNorm, fuseGelu, foldBatchNorm, foldBiasAdd, foldScale,
];

/** Runs every pass over `model` (changed in place and returned); `notes` gets one line per fold. */
export function runPasses(model: Model, notes: string[]): Model {
  const g = new Graph(model);
  for (const pass of PASSES) pass(g, notes);
  removeUnused(g);
  return g.model;
}
