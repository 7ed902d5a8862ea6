// The WASM runtime as an engine of `hnet run` / `hnet eval` (--engine wasm).
// A loaded runtime model is kept per Model object, so evaluating in batches
// loads (and materialises) the weights once.

import { encode, type Model } from '@hnet/format';
import { loadModel, type HnetModel } from '@hnet/runtime-wasm';
import { registerEngine } from './engine.js';

const loaded = new WeakMap<Model, Promise<HnetModel>>();

function runtimeModel(model: Model): Promise<HnetModel> {
  let m = loaded.get(model);
  if (!m) {
    m = loadModel(encode(model));
    loaded.set(model, m);
  }
  return m;
}

registerEngine({
  name: 'wasm',
  description: 'the WebAssembly runtime (@hnet/runtime-wasm), materialised or streaming by memory budget',
  run: async (model, inputs) => (await runtimeModel(model)).run(inputs),
});
