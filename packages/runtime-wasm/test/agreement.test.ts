// One rule for both readers (docs/FORMAT.md, "Reader rules"): a file that
// @hnet/format's decode accepts, the runtime loads, and the other way round.
// Checked on random models with one field set to an edge value (the fields of
// issue 11: batch dims, ranks, geometry, K, Reshape targets, duplicate outputs;
// and format 1.1's attribute lists, block hashing, int4 storage, repeated inputs)
// and on byte-level corruptions of valid files. The memory budget is not a
// rule of the format, so a budget refusal counts as "accepted".
// The hostile corpus (test/hostile/) holds the cases found so far.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, HnetFormatError, runReference, weightsOf, type Model, type Op } from '@hnet/format';
import { encodeUnvalidated } from '@hnet/format/testing';
import type { HnetExports } from '../src/index.js';
import { HnetRuntimeError, loadModel } from '../src/index.js';
import { copyIn, lastErrorMessage, rawInstance } from './helpers.js';
import { randomModel, randomModel11, rng } from './models.js';

const E_BUDGET = 7;

function formatVerdict(bytes: Uint8Array): string {
  try {
    decode(bytes);
    return 'accepted';
  } catch (e) {
    if (!(e instanceof HnetFormatError)) throw e; // a crash, not a refusal
    return `refused: ${e.message}`;
  }
}

function wasmVerdict(x: HnetExports, bytes: Uint8Array): string {
  const ptr = copyIn(x, bytes.length ? bytes : new Uint8Array(1));
  const handle = x.hnet_load(ptr, bytes.length, 0, 0);
  const code = x.hnet_last_error_code();
  const message = lastErrorMessage(x);
  x.hnet_free(ptr);
  if (handle !== 0) x.hnet_unload(handle);
  return handle !== 0 || code === E_BUDGET ? 'accepted' : `refused: ${message}`;
}

const EDGE = [-5, -1, 0, 1, 2, 3, 2 ** 28, 2 ** 28 + 1, 2 ** 30, 2 ** 31 - 1];
/** Integer attribute extremes: the int32 and int64-as-double limits, and the sizes around the caps. */
const OP_EDGE = [-(2 ** 53), -(2 ** 31), -(2 ** 31) - 1, -9, -2, -1, 0, 1, 2, 7, 2 ** 28, 2 ** 28 + 1, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1];

/** Sets one field of one node or tensor of the model to an edge value. */
function mutate(model: Model, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const edge = (): number => pick(EDGE);
  const node = pick(model.nodes);
  const op = node.op as Op & Record<string, unknown>;
  const what = pick(['input-dim', 'input-rank', 'output-dim', 'output-twice', 'geometry', 'buckets', 'weight-dim', 'reshape', 'axis',
    'op-list', 'op-list', 'block', 'int4', 'inputs-repeated']);
  switch (what) {
    case 'input-dim': {
      const shape = model.inputs[0].shape;
      const d = Math.floor(random() * shape.length);
      shape[d] = edge();
      return `inputs[0].shape[${d}] = ${shape[d]}`;
    }
    case 'input-rank': {
      const extra = pick([1, 5, 995]);
      model.inputs[0].shape.push(...new Array(extra).fill(1));
      return `inputs[0] rank + ${extra}`;
    }
    case 'output-dim': {
      const shape = model.outputs[0].shape;
      const d = Math.floor(random() * shape.length);
      shape[d] = edge();
      return `outputs[0].shape[${d}] = ${shape[d]}`;
    }
    case 'output-twice':
      model.outputs.push({ ...model.outputs[0], shape: [...model.outputs[0].shape] });
      return 'outputs listed twice';
    case 'geometry': {
      const fields = (['kernel', 'strides', 'pads', 'dilations'] as const).filter((f) => Array.isArray(op[f]));
      if (fields.length === 0) return 'no geometry';
      const f = pick(fields);
      const values = op[f] as number[];
      const i = Math.floor(random() * values.length);
      values[i] = edge();
      return `${node.name}.${f}[${i}] = ${values[i]}`;
    }
    case 'buckets': {
      const w = weightsOf(node.op);
      if (!w || w.weight.hash === null) return 'no hashed weight';
      const virtual = w.weight.shape.reduce((a, b) => a * b, 1);
      const k = pick([1, virtual, virtual + 1]);
      w.weight.values = { dtype: 'float32', data: new Float32Array(k) };
      return `${node.name} K = ${k} of ${virtual}`;
    }
    case 'weight-dim': {
      const w = weightsOf(node.op);
      if (!w) return 'no weight';
      const d = Math.floor(random() * w.weight.shape.length);
      w.weight.shape[d] = pick([1, 2, 65536, 2 ** 31 - 1]);
      w.weight.hash ??= { algorithm: 'xxh32', bucketSeed: 1, signSeed: null };
      return `${node.name}.weight.shape[${d}] = ${w.weight.shape[d]} (hashed)`;
    }
    case 'reshape': {
      if (node.op.type !== 'Reshape') return 'no reshape';
      const s = node.op.shape;
      const d = Math.floor(random() * s.length);
      s[d] = pick([-2, -1, 0, 1, 6, 2 ** 28 + 1]);
      return `${node.name}.shape[${d}] = ${s[d]}`;
    }
    case 'op-list': {
      // Format 1.1's attribute lists: Slice, Pad, Resize scales, Expand, Transpose, Reduce axes, ConvTranspose outputPadding.
      const fields = (['starts', 'ends', 'steps', 'pads', 'scales', 'shape', 'perm', 'axes', 'outputPadding'] as const).filter((f) => Array.isArray(op[f]));
      if (fields.length === 0) return 'no attribute list';
      const f = pick(fields);
      const values = op[f] as number[];
      const i = Math.floor(random() * values.length);
      values[i] = f === 'scales' ? pick([0, -1, 1e-30, 0.5, 2 ** 28, 2 ** 29, Infinity, NaN]) : pick(OP_EDGE);
      return `${node.name}.${f}[${i}] = ${values[i]}`;
    }
    case 'block': {
      const w = weightsOf(node.op);
      if (!w || w.weight.hash === null) return 'no hashed weight';
      const block = pick([0, 1, 2, 6, 32, 33, 64, 68, 2 ** 31 - 1]);
      const algorithm = pick(['xxh32-block', 'xxh32-aligned-block'] as const);
      w.weight.hash = { algorithm, bucketSeed: 3, signSeed: pick([null, 4]), block };
      const k = pick([1, Math.max(1, block - 1), block, block + 1].filter((n) => n <= 4096)); // K below, at and above Z
      w.weight.values = { dtype: 'float32', data: new Float32Array(k) };
      return `${node.name} ${algorithm} Z = ${block}, K = ${k}`;
    }
    case 'int4': {
      const w = weightsOf(node.op);
      if (!w) return 'no weight';
      const n = w.weight.values.data.length + pick([-1, 0, 0, 1]); // an odd count, or one off
      const data = new Int8Array(Math.max(0, n)).fill(3);
      if (data.length && random() < 0.5) data[Math.floor(random() * data.length)] = -8;
      w.weight.values = { dtype: 'int4', data, scale: pick([0.5, 0, -1, Infinity]) };
      return `${node.name} int4 x ${data.length}${data.includes(-8) ? ' with a -8' : ''}, scale ${w.weight.values.scale}`;
    }
    case 'inputs-repeated': {
      if (node.op.type !== 'Concat' && node.op.type !== 'Add' && node.op.type !== 'Mul') return 'no multi-input op';
      const times = pick([2, 3, 1000]);
      node.inputs = new Array<string>(times).fill(node.inputs[0]);
      return `${node.name} reads ${node.inputs[0]} ${times} times`;
    }
    default: {
      if (typeof op.axis !== 'number') return 'no axis';
      op.axis = pick([-5, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
      return `${node.name}.axis = ${op.axis}`;
    }
  }
}

it('mutated models: decode accepts exactly what the runtime loads', async () => {
  const x = await rawInstance();
  const random = rng(11);
  let refusedByBoth = 0;
  for (let i = 0; i < 800; i++) {
    const model = i % 2 ? randomModel11(1000 + i, i % 4 === 1 ? { dtype: 'int4' } : i % 8 === 3 ? { block: 1 + (i % 32) } : i % 8 === 7 ? { block: 4 * (1 + ((i >> 3) % 16)), aligned: true } : {}) : randomModel(1000 + i);
    const how = mutate(model, random);
    const bytes = encodeUnvalidated(model);
    const ts = formatVerdict(bytes);
    const wasm = wasmVerdict(x, bytes);
    assert.equal(ts === 'accepted', wasm === 'accepted', `model ${1000 + i}, ${how}:\n  format ${ts}\n  wasm   ${wasm}`);
    if (ts !== 'accepted') refusedByBoth++;
  }
  // The mutations must reach the rules, not only leave valid models.
  assert.ok(refusedByBoth > 200, `only ${refusedByBoth} of 800 refused`);
});

it('corrupted files: decode accepts exactly what the runtime loads', async () => {
  const x = await rawInstance();
  const random = rng(12);
  for (let i = 0; i < 400; i++) {
    const bytes = encodeUnvalidated(i % 2 ? randomModel11(2000 + i) : randomModel(2000 + i)).slice();
    const view = new DataView(bytes.buffer);
    const p = Math.floor(random() * (bytes.length - 4)) & ~3;
    const value = [0, 1, 0xffffffff, 0x7fffffff, 0x10000000, 0x10000001, Math.floor(random() * 2 ** 32)][Math.floor(random() * 7)];
    view.setUint32(p, value, true);
    const ts = formatVerdict(bytes);
    const wasm = wasmVerdict(x, bytes);
    assert.equal(ts === 'accepted', wasm === 'accepted', `model ${2000 + i}, u32 at ${p} = ${value}:\n  format ${ts}\n  wasm   ${wasm}`);
  }
});

it('running: both refuse a batch of 0 or above 2^31 - 1, and inputs that disagree on the batch', async () => {
  const model: Model = {
    inputs: [{ name: 'a', shape: [-1, 2] }, { name: 'b', shape: [-1, 2] }],
    outputs: [{ name: 'a2', shape: [-1, 2] }, { name: 'b2', shape: [-1, 2] }],
    nodes: [
      { name: 'ra', op: { type: 'Relu' }, inputs: ['a'], outputs: ['a2'] },
      { name: 'rb', op: { type: 'Relu' }, inputs: ['b'], outputs: ['b2'] },
    ],
    metadata: {},
  };
  const runtime = await loadModel(encodeUnvalidated(model));
  try {
    const feeds = (na: number, nb: number) => ({
      a: { shape: [na, 2], data: new Float32Array(Math.max(0, 2 * Math.min(na, 4))) },
      b: { shape: [nb, 2], data: new Float32Array(Math.max(0, 2 * Math.min(nb, 4))) },
    });
    for (const [na, nb, pattern] of [[0, 0, /batch size 0/], [2 ** 31, 2 ** 31, /batch size 2147483648/], [2, 3, /batch size/]] as const) {
      assert.throws(() => runReference(model, feeds(na, nb)), (e: HnetFormatError) => e instanceof HnetFormatError && pattern.test(e.message), `reference, batch ${na}/${nb}`);
      assert.throws(() => runtime.run(feeds(na, nb)), (e: HnetRuntimeError) => e instanceof HnetRuntimeError && pattern.test(e.message), `runtime, batch ${na}/${nb}`);
    }
  } finally {
    runtime.dispose();
  }
});
