// The engines of run, eval and bench: both load the same bytes into sessions
// that agree (the WASM runtime against the reference oracle), and the
// registry refuses a second engine of the same name.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { importOnnx } from '@hnet/convert';
import { encode } from '@hnet/format';
import { engineNames, getEngine, registerEngine, type Engine } from '../src/engines.js';
import { assertClose, fixture, loadNpy } from '../../convert/test/helpers.js';

test('the wasm and reference engines load the same bytes and agree, in every wasm mode', async () => {
  const bytes = encode(importOnnx(readFileSync(fixture('lenet.onnx')), { source: 'lenet.onnx' }).model);
  const x = loadNpy(fixture('lenet.input.npy'));
  const reference = await getEngine('reference')!.load(bytes);
  const name = reference.info.inputs[0].name;
  const expected = await reference.run({ [name]: x });
  assert.equal(reference.info.mode, 'reference');
  for (const mode of ['materialized', 'streaming'] as const) {
    const session = await getEngine('wasm')!.load(bytes, { mode });
    assert.equal(session.info.mode, mode);
    assert.deepEqual(session.info.inputs, reference.info.inputs);
    assert.deepEqual(session.info.outputs, reference.info.outputs);
    const out = await session.run({ [name]: x });
    for (const o of reference.info.outputs) assertClose(out[o.name], expected[o.name], 1e-4, `${mode} ${o.name}`);
    assert.ok(session.info.memory!.weights > 0);
    session.dispose();
  }
});

test('a second engine with a taken name is refused', () => {
  const twin: Engine = { ...getEngine('reference')!, description: 'an impostor' };
  assert.throws(() => registerEngine(twin), /an engine named "reference" is already registered/);
  assert.deepEqual(engineNames(), ['reference', 'wasm']);
  assert.equal(getEngine('reference')!.description.includes('impostor'), false);
});
