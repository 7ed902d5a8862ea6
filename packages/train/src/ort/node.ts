// The ort engine on onnxruntime-node: native MLAS kernels, all cores unless
// the options say otherwise, without spinning threads. The one module of the
// engine that imports Node.

import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Model } from '@hnet/format';
import type { EngineOptions } from '../engine.js';
import { OrtEngine } from './engine.js';

export function createNodeOrtEngine(model: Model, options: EngineOptions): Promise<OrtEngine> {
  return OrtEngine.create(model, options, {
    ort,
    label: `onnxruntime-node ${ort.env.versions.node}`,
    defaultThreads: os.availableParallelism(),
    writesIntoOutputs: true,
    // Idle pool threads sleep instead of spinning. Same process, 2 threads, machine shared with other
    // jobs: a dense 784-1000-10 step 5.2 → 3.4 ms, a 1/8 HashNet step 13.9 → 6.6 ms (one thread: no pool).
    sessionOptions: { extra: { session: { intra_op: { allow_spinning: '0' } } } },
  });
}
