// The wrapper's `normalization` option: raw inputs preprocessed by the
// format's rule before the run, equal to @hnet/format's normalizeValues
// (the reference this copy must match), per channel too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, normalizationEntry, normalizeValues, presetNormalization, readNormalization, runReference, type Model } from '@hnet/format';
import { loadModel, normalizeInto } from '../src/index.js';
import { assertClose } from './helpers.js';
import { mlpModel, randomArray, rng } from './models.js';

test('normalizeInto equals the format normalizeValues, one value and per channel', () => {
  const raw = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
  for (const norm of [presetNormalization('pixel/255'), presetNormalization('imagenet'), { scale: 2, mean: [0.5], std: [0.25, 0.5, 1] }]) {
    const ours = new Float32Array(raw.length);
    normalizeInto(ours, raw, 12, norm);
    assert.deepEqual([...ours], [...normalizeValues(raw, 12, norm)]);
  }
  assert.throws(() => normalizeInto(new Float32Array(10), new Float32Array(10), 5, presetNormalization('imagenet')), /do not divide the 5 values/);
});

test("run() with the model's recorded normalization on raw input equals the reference on preprocessed input", async () => {
  const base: Model = mlpModel(5, [12, 8, 4]);
  const norm = { scale: 1 / 255, mean: [0.2], std: [0.3] };
  const model: Model = { ...base, metadata: normalizationEntry(norm) };
  const bytes = encode(model);
  const input = model.inputs[0];
  const size = input.shape.slice(1).reduce((a, b) => a * b, 1);
  const raw = randomArray(rng(6), 3 * size, 1).map((v) => Math.round(Math.abs(v) * 255));
  const shape = [3, ...input.shape.slice(1)];
  const m = await loadModel(bytes, { normalization: readNormalization(model.metadata) });
  const ours = m.run({ [input.name]: { shape, data: raw } })[model.outputs[0].name];
  const expected = runReference(model, { [input.name]: { shape, data: normalizeValues(raw, size, norm) } })[model.outputs[0].name];
  assertClose(ours, expected, "raw input with the recorded normalization");
  m.dispose();
});
