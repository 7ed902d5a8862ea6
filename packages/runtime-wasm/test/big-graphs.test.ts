// Graph size: loading is O(n log n) in nodes and tensors. A chain of 100k
// Adds once took 29 s to load and 14 s to plan its first run, 100k graph
// inputs 28 s + 26 s (quadratic scans in the parser and the arena layout).
// The timeouts only guard against a quadratic regression (about 0.5 s now
// on a loaded machine); bench/ measures speed.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@hnet/format';
import { loadModel } from '../src/index.js';
import { WASM_PATHS } from './helpers.js';
import { addChain, manyInputs } from './big-graphs.js';

const N = 100_000;

it(`a chain of ${N} Adds loads and runs`, { timeout: 10_000 }, async () => {
  const model = await loadModel(encode(addChain(N)), { wasm: WASM_PATHS.release });
  try {
    const x = Float32Array.from([1, -2, 0.5, 3]);
    const { [`y${N}`]: y } = model.run(x);
    assert.deepEqual(Array.from(y.data), Array.from(x, (v) => v * (N + 1)));
    // The chain needs the input and one buffer, which each Add writes over in place, however long it is.
    assert.equal(model.info.memory.arena, 2 * 16);
  } finally {
    model.dispose();
  }
});

it(`a model with ${N} graph inputs loads and runs`, { timeout: 10_000 }, async () => {
  const model = await loadModel(encode(manyInputs(N)), { wasm: WASM_PATHS.release });
  try {
    assert.equal(model.info.inputs.length, N);
    const feeds = Object.fromEntries(model.info.inputs.map((t, i) => [t.name, { shape: [1, 4], data: new Float32Array(4).fill(i) }]));
    assert.deepEqual(Array.from(model.run(feeds).y.data), [1, 1, 1, 1]);
  } finally {
    model.dispose();
  }
});
