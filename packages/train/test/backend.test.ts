import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { currentBackend, selectBackend } from '../src/backend.js';
import { TrainError } from '../src/errors.js';

/** Whether @tensorflow/tfjs-node can be imported here (a variable specifier: it is not a dependency). */
async function tfjsNodeInstalled(): Promise<boolean> {
  try {
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return true;
  } catch {
    return false;
  }
}

test('an explicit backend is used and logged', async () => {
  const lines: string[] = [];
  assert.equal(await selectBackend('cpu', (l) => lines.push(l)), 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(currentBackend(), 'cpu');
  assert.deepEqual(lines, ['hnet train: backend cpu (requested)']);
});

test('automatic choice: tfjs-node when installed, else wasm', async () => {
  const nodeInstalled = await tfjsNodeInstalled();
  const lines: string[] = [];
  const chosen = await selectBackend(undefined, (l) => lines.push(l));
  assert.equal(chosen, nodeInstalled ? 'tensorflow' : 'wasm');
  assert.deepEqual(lines, [`hnet train: backend ${chosen}`]);
});

test('HNET_BACKEND overrides the choice; a bad name or a missing backend is a TrainError listing why', async () => {
  process.env.HNET_BACKEND = 'cpu';
  try {
    assert.equal(await selectBackend(undefined, null), 'cpu');
    process.env.HNET_BACKEND = 'gpu';
    await assert.rejects(selectBackend(undefined, null), (e: unknown) => e instanceof TrainError && /unknown backend 'gpu'/.test(e.message));
  } finally {
    delete process.env.HNET_BACKEND;
  }
  const nodeInstalled = await tfjsNodeInstalled();
  if (!nodeInstalled) {
    await assert.rejects(selectBackend('tensorflow', null), (e: unknown) => e instanceof TrainError && /tensorflow:/.test(e.message));
  } else {
    console.log('# tfjs-node is installed here: the missing-backend error case is not reachable');
  }
});
