// The arena planner against its naive twin (hnet_set_naive switches both the
// kernels and the planner): the same arena size and the same place for every
// graph input and output, on random models of every op, MLPs and long
// branching chains, at several batch sizes.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { encode, type Model } from '@hnet/format';
import type { HnetExports } from '../src/index.js';
import { copyIn, lastErrorMessage, rawInstance } from './helpers.js';
import { addChain } from './big-graphs.js';
import { mlpModel, randomModel, randomModel11 } from './models.js';

/** Arena bytes and the arena offset of every input and output, per batch size. */
function layout(x: HnetExports, bytes: Uint8Array, naive: boolean): number[][] {
  x.hnet_set_naive(naive ? 1 : 0);
  const ptr = copyIn(x, bytes);
  const h = x.hnet_load(ptr, bytes.length, 0, 1);
  x.hnet_free(ptr);
  assert.ok(h > 0, lastErrorMessage(x));
  const out = [1, 3, 8].map((batch) => {
    assert.equal(x.hnet_prepare(h, batch), 0, lastErrorMessage(x));
    const arena = x.hnet_arena_ptr(h);
    const inputs = Array.from({ length: x.hnet_input_count(h) }, (_, i) => x.hnet_input_ptr(h, i, batch) - arena);
    assert.equal(x.hnet_run(h, batch), 0, lastErrorMessage(x));
    const outputs = Array.from({ length: x.hnet_output_count(h) }, (_, i) => x.hnet_output_ptr(h, i) - arena);
    return [x.hnet_arena_bytes(h), ...inputs, ...outputs];
  });
  x.hnet_unload(h);
  x.hnet_set_naive(0);
  return out;
}

/** y_i = Relu(y_{i-1}) + y_{i-k}: every buffer lives k steps, so many are alive at once. */
function skipChain(length: number, k: number): Model {
  const nodes: Model['nodes'] = [];
  const names = ['x'];
  for (let i = 1; i <= length; i++) {
    nodes.push({ name: `r${i}`, op: { type: 'Relu' }, inputs: [names[i - 1]], outputs: [`r${i}`] });
    nodes.push({ name: `a${i}`, op: { type: 'Add' }, inputs: [`r${i}`, names[Math.max(0, i - k)]], outputs: [`y${i}`] });
    names.push(`y${i}`);
  }
  return { inputs: [{ name: 'x', shape: [-1, 3 + (length % 5)] }], outputs: [{ name: names[length], shape: [-1, 3 + (length % 5)] }], nodes, metadata: {} };
}

it('the planner lays out arenas exactly as its naive twin', async () => {
  const x = await rawInstance();
  const models: [string, Model][] = [
    ...Array.from({ length: 30 }, (_, s): [string, Model] => [`random model ${s}`, randomModel(300 + s)]),
    ...Array.from({ length: 20 }, (_, s): [string, Model] => [`random 1.1 model ${s}`, randomModel11(300 + s)]),
    ['mlp', mlpModel(7, [40, 33, 17, 5])],
    ['add chain', addChain(200)],
    ['skip chain k=3', skipChain(60, 3)],
    ['skip chain k=17', skipChain(90, 17)],
  ];
  for (const [name, model] of models) {
    const bytes = encode(model);
    assert.deepEqual(layout(x, bytes, false), layout(x, bytes, true), name);
  }
});
