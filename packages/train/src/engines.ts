// Picks a training engine by name. The engines load lazily: a run on one
// never loads the other's runtime (onnxruntime-node or TensorFlow.js).

import type { Model } from '@hnet/format';
import { ENGINES, type EngineName, type EngineOptions, type TrainingEngine } from './engine.js';
import { TrainError } from './errors.js';

export async function createEngine(name: EngineName, model: Model, options: EngineOptions = {}): Promise<TrainingEngine> {
  switch (name) {
    case 'ort':
      return (await import('./ort/node.js')).createNodeOrtEngine(model, options);
    case 'tfjs':
      return (await import('./tfjs-engine.js')).TfjsEngine.create(model, options);
    default:
      throw new TrainError('options', `engine '${name as string}': expected one of ${ENGINES.join(', ')}`);
  }
}
