// Quantization-aware training: with it, each engine's forward is the forward
// of the model as written (int8/int4 storage), its gradient is the straight-
// through one, and train()'s reported accuracy is the written model's.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { runReference, valuesFromFloat32, valuesToFloat32, type Model, type Weight } from '@hnet/format';
import { randomArray, rng } from '@hnet/format/testing';
import { selectBackend } from '../src/backend.js';
import { createEngine } from '../src/engines.js';
import type { EngineName, EngineOptions } from '../src/engine.js';
import { fakeQuantize, type QuantizedDType } from '../src/quantize.js';
import { evaluate, train } from '../src/train.js';
import { blobs, mlp, relativeError } from './helpers.js';
import { denseZoo } from './ort-models.js';
import { Rng } from '../src/rng.js';

before(async () => {
  await selectBackend('cpu', null);
});

const ENGINES: EngineName[] = ['ort', 'tfjs'];
const QUANTIZED: QuantizedDType[] = ['int8', 'int4'];
const engineOf = (name: EngineName, model: Model, options: EngineOptions) => createEngine(name, model, { ...options, threads: 1 });

/** Float values off the quantization grid, as training leaves them between steps. */
const offGrid = (values: Float32Array[], seed: number): Float32Array[] => values.map((v, k) => {
  const r = rng(seed + k);
  return Float32Array.from(v, (x) => x + 0.05 * (2 * r() - 1));
});

test('with QAT, each engine computes the logits of the model as written (int8, int4); without it, of the float values', async () => {
  for (const name of ENGINES) {
    for (const dtype of QUANTIZED) {
      const model = denseZoo(rng(11), dtype, true);
      const x = randomArray(rng(12), 6 * 10, 1.5);
      const qat = await engineOf(name, model, { quantizationAware: true });
      const float = await engineOf(name, model, {});
      const values = offGrid(qat.snapshot(), 13);
      qat.restore(values);
      float.restore(values);
      const written = qat.toModel(); // valuesFromFloat32: the file's rounding
      const expected = Float32Array.from(runReference({ ...written, nodes: written.nodes.slice(0, -1), outputs: [{ name: 'logits', shape: [-1, 5] }] }, { x: { shape: [6, 10], data: x } }).logits.data);
      const withQat = relativeError(await qat.logits(x, 6), expected);
      const withoutQat = relativeError(await float.logits(x, 6), expected);
      assert.ok(withQat < 1e-5, `${name} ${dtype}: QAT logits off the written model's by ${withQat}`);
      assert.ok(withoutQat > 1e-3, `${name} ${dtype}: the float logits should differ from the quantized ones (${withoutQat})`);
      await qat.dispose();
      await float.dispose();
    }
  }
});

test('the QAT gradient is the straight-through one: the float gradient at the quantized values', async () => {
  for (const name of ENGINES) {
    for (const dtype of QUANTIZED) {
      const model = denseZoo(rng(21), dtype, true, true);
      const random = rng(22);
      const batch = { count: 5, x: randomArray(random, 50, 1.5), labels: Int32Array.from({ length: 5 }, (_, i) => i % 5), teacher: null };
      const qat = await engineOf(name, model, { quantizationAware: true });
      const float = await engineOf(name, model, {});
      const values = offGrid(qat.snapshot(), 23);
      qat.restore(values);
      float.restore(values.map((v) => fakeQuantize(v, dtype)));
      const a = await qat.gradients(batch);
      const b = await float.gradients(batch);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5 * Math.abs(b.loss), `${name} ${dtype}: loss ${a.loss} vs ${b.loss}`);
      a.grads.forEach((g, k) => assert.ok(relativeError(g, b.grads[k]) < 1e-4, `${name} ${dtype} param ${k}: ${relativeError(g, b.grads[k])}`));
      await qat.dispose();
      await float.dispose();
    }
  }
});

test('int4 retraining: the reported validation and test accuracies are those of the written model', async () => {
  const data = blobs(600, 12, 4, 31, 1.4);
  const validation = blobs(200, 12, 4, 32, 1.4);
  const test4 = blobs(200, 12, 4, 33, 1.4);
  const base = mlp(12, 24, 4, 0.3, new Rng(34));
  // Every weight and bias stored as int4.
  const store = (w: Weight): Weight => ({ ...w, values: valuesFromFloat32(valuesToFloat32(w.values), 'int4') });
  const int4: Model = { ...base, nodes: base.nodes.map((n) => (n.op.type === 'Dense' ? { ...n, op: { ...n.op, weight: store(n.op.weight), bias: n.op.bias && store(n.op.bias) } } : n)) };
  for (const engine of ENGINES) {
    const { model, summary } = await train(int4, data, { engine, epochs: 3, batchSize: 20, validation, test: test4, quiet: true, seed: 5, threads: 1 });
    assert.equal(model.nodes[0].op.type === 'Dense' && model.nodes[0].op.weight.values.dtype, 'int4');
    const written = await evaluate(model, validation, { engine, threads: 1 });
    assert.equal(summary.validationAccuracy, written.accuracy, `${engine}: validation accuracy reported vs written`);
    assert.equal(summary.testAccuracy, (await evaluate(model, test4, { engine, threads: 1 })).accuracy);
  }
});
