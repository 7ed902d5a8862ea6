// The input normalization recorded in metadata: presets, per-channel values,
// the metadata round trip, files written before per-channel values, bad values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkNormalizationFits,
  describeNormalization,
  formatNormalization,
  HnetFormatError,
  IDENTITY_NORMALIZATION,
  METADATA_KEYS,
  normalizationEntry,
  normalizationFlags,
  normalizeValues,
  parseNormalization,
  presetNormalization,
  presetOf,
  readNormalization,
  resolveNormalization,
} from '../src/index.js';

const NORMALIZATION_KEY = METADATA_KEYS.inputNormalization;

test('presets: pixel/255, imagenet and none', () => {
  assert.deepEqual(presetNormalization('pixel/255'), { scale: 1 / 255, mean: [0], std: [1] });
  assert.deepEqual(presetNormalization('imagenet').mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(presetNormalization('imagenet').std, [0.229, 0.224, 0.225]);
  assert.deepEqual(presetNormalization('none'), IDENTITY_NORMALIZATION);
  assert.throws(() => presetNormalization('bytes'), /unknown preprocessing "bytes"; presets: none, pixel\/255, imagenet/);
});

test('flags resolve to a normalization: a preset, then scale/mean/std override it; nothing given is null', () => {
  assert.equal(resolveNormalization({}), null);
  assert.deepEqual(resolveNormalization({ scale: 1 / 255 }), { scale: 1 / 255, mean: [0], std: [1] });
  assert.deepEqual(resolveNormalization({ preset: 'imagenet', std: [0.5] }), { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.5] });
  assert.throws(() => resolveNormalization({ mean: [0.1, 0.2], std: [1, 2, 3] }), /mean has 2 values and std 3/);
  assert.throws(() => resolveNormalization({ std: [0] }), /std must be finite and > 0/);
});

test('one mean/std for all values; per channel: axis 1 of NCHW, C blocks of a flat example', () => {
  const raw = Float32Array.from([0, 255, 51, 102]);
  assert.deepEqual([...normalizeValues(raw, 2, presetNormalization('pixel/255'))], [0, 1, 0.2, 0.4].map(Math.fround));
  // 2 examples of 2 channels × 2 pixels: channel 0 is values 0–1, channel 1 is values 2–3 of each example.
  const norm = { scale: 1, mean: [1, 10], std: [1, 2] };
  const x = Float32Array.from([1, 2, 10, 12, 3, 4, 14, 16]);
  assert.deepEqual([...normalizeValues(x, 4, norm)], [0, 1, 0, 1, 2, 3, 2, 3]);
  checkNormalizationFits(norm, [-1, 2, 1, 2]);
  checkNormalizationFits(norm, [-1, 4]);
  assert.throws(() => checkNormalizationFits(presetNormalization('imagenet'), [-1, 1, 28, 28]), /3 per-channel values do not fit input \[-1,1,28,28\]/);
  assert.throws(() => checkNormalizationFits(presetNormalization('imagenet'), [-1, 784]), /do not fit/);
  assert.throws(() => normalizeValues(Float32Array.from([1, 2, 3]), 2, IDENTITY_NORMALIZATION), HnetFormatError);
});

test('metadata round trip: scalars stay scalars (old readers read them), per-channel values are arrays', () => {
  for (const norm of [IDENTITY_NORMALIZATION, presetNormalization('pixel/255'), presetNormalization('imagenet'), { scale: 0.5, mean: [0.1], std: [0.2, 0.3] }]) {
    assert.deepEqual(parseNormalization(formatNormalization(norm)), norm);
  }
  assert.equal(formatNormalization({ scale: 1 / 255, mean: [0.286], std: [0.353] }), `{"scale":${1 / 255},"mean":0.286,"std":0.353}`);
  assert.match(formatNormalization(presetNormalization('imagenet')), /"mean":\[0\.485,0\.456,0\.406\]/);
  assert.deepEqual(readNormalization(normalizationEntry(presetNormalization('imagenet'))), presetNormalization('imagenet'));
});

test('values written by hnet before per-channel normalization read unchanged; absent is null', () => {
  const old = '{"scale":0.00392156862745098,"mean":0.2860405969887955,"std":0.3530242445149223}';
  assert.deepEqual(readNormalization({ [NORMALIZATION_KEY]: old }), { scale: 0.00392156862745098, mean: [0.2860405969887955], std: [0.3530242445149223] });
  assert.deepEqual(readNormalization({ [NORMALIZATION_KEY]: '{"scale":1}' }), IDENTITY_NORMALIZATION);
  assert.equal(readNormalization({}), null);
});

test('bad metadata values name the key', () => {
  assert.throws(() => readNormalization({ [NORMALIZATION_KEY]: 'pixel/255' }), /metadata\["hnet.input.normalization"\]: not JSON/);
  assert.throws(() => parseNormalization('{"mean":"0.5"}'), /"mean" must be a number or an array of numbers/);
  assert.throws(() => parseNormalization('[1,2]'), /expected a JSON object/);
  assert.throws(() => parseNormalization('{"std":-1}'), /std must be finite and > 0/);
});

test('described as a preset or as the flags that give it', () => {
  assert.equal(presetOf({ scale: 1 / 255, mean: [0], std: [1] }), 'pixel/255');
  assert.equal(normalizationFlags({ scale: 1 / 255, mean: [0], std: [1] }), '--preprocess pixel/255');
  assert.equal(normalizationFlags({ scale: 1 / 255, mean: [0.286], std: [0.353] }), '--input-scale 1/255 --mean 0.286 --std 0.353');
  assert.equal(normalizationFlags({ scale: 2, mean: [0], std: [1] }), '--input-scale 2');
  assert.equal(describeNormalization({ scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5] }), 'scale 1/255, mean 0.5,0.5,0.5, std 0.5');
});
