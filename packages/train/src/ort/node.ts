// The ort engine on onnxruntime-node: native MLAS kernels, all cores unless
// the options say otherwise. The one module of the engine that imports Node.

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
  });
}
