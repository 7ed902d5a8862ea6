import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fb from '../src/generated/hnet_generated.js';
import {
  checkReaderVersion, DATA_ALIGNMENT, decode, encode, float16Bits, float16Value, minReaderVersion, OP_TYPES, plainWeight, readVersions,
  valuesFromFloat32, valuesToFloat32, weightsOf, type Model, type Weight,
} from '../src/index.js';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import { DTYPES, randomModel } from './models.js';

test('random models round-trip exactly through encode/decode (all ops, all dtypes, every hash algorithm)', () => {
  const opsSeen = new Set<string>();
  const dtypesSeen = new Set<string>();
  const hashesSeen = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) {
    const model = randomModel(seed);
    const bytes = encode(model);
    const decoded = decode(bytes);
    assert.deepStrictEqual(decoded, model, `seed ${seed}`);
    assert.deepStrictEqual(encode(decoded), bytes, `seed ${seed}: re-encoding changed the bytes`);
    for (const node of model.nodes) {
      opsSeen.add(node.op.type);
      const weights = weightsOf(node.op);
      for (const weight of weights ? [weights.weight, weights.bias] : []) {
        if (!weight) continue;
        dtypesSeen.add(weight.values.dtype);
        hashesSeen.add(weight.hash?.algorithm ?? 'plain');
      }
    }
  }
  assert.deepStrictEqual([...opsSeen].sort(), [...OP_TYPES].sort(), 'the generator must cover every op');
  assert.deepStrictEqual([...dtypesSeen].sort(), [...DTYPES].sort());
  assert.deepStrictEqual([...hashesSeen].sort(), ['plain', 'xxh32', 'xxh32-aligned-block', 'xxh32-block']);
});

test('decode works on a buffer at an odd byte offset (no alignment assumed)', () => {
  const bytes = encode(randomModel(7));
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  assert.deepStrictEqual(decode(shifted.subarray(1)), decode(bytes));
});

test(`bulk value arrays start on a ${DATA_ALIGNMENT}-byte boundary`, () => {
  const bytes = encode(randomModel(3));
  const root = fb.Model.getRootAsModel(new CheckedByteBuffer(bytes));
  let checked = 0;
  for (let i = 0; i < root.nodesLength(); i++) {
    const node = root.nodes(i)!;
    const table = node.opType() === fb.Op.Dense ? node.op(new fb.Dense()) : node.opType() === fb.Op.Conv2D ? node.op(new fb.Conv2D()) : null;
    for (const weight of table ? [table.weight(), table.bias()] : []) {
      if (!weight) continue;
      const data = weight.values()!.dataArray()!;
      assert.equal(data.byteOffset % DATA_ALIGNMENT, 0, `node ${node.name()} data at ${data.byteOffset}`);
      checked++;
    }
  }
  assert.ok(checked >= 4, `checked ${checked} arrays`);
});

test('the file starts with the identifier and records the writer version 1.2 and the min reader version its features need', () => {
  const versionsOf = (bytes: Uint8Array): number[][] => {
    const root = fb.Model.getRootAsModel(new CheckedByteBuffer(bytes));
    return [[root.formatVersion()!.major(), root.formatVersion()!.minor()], [root.minReaderVersion()!.major(), root.minReaderVersion()!.minor()]];
  };
  const model = randomModel(1);
  const bytes = encode(model);
  assert.equal(new TextDecoder().decode(bytes.subarray(4, 8)), 'HNET');
  const { major, minor } = minReaderVersion(model);
  assert.deepStrictEqual(versionsOf(bytes), [[1, 2], [major, minor]]);
  // Only 1.0 features (ops, dtypes, hash): a 1.0 reader can run it, so it says 1.0.
  assert.deepStrictEqual(versionsOf(encode(model10())), [[1, 2], [1, 0]]);
});

/** A Dense model of 1.0 features only, or with one 1.1 feature swapped in. */
function model10(change: 'op' | 'int4' | 'block' | null = null): Model {
  const weight = plainWeight(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], change === 'int4' ? 'int4' : 'float32');
  const hashed: Weight = { ...weight, hash: { algorithm: 'xxh32-block', bucketSeed: 1, signSeed: 2, block: 4 }, values: valuesFromFloat32(Float32Array.from([1, 2]), 'float32') };
  return {
    inputs: [{ name: 'x', shape: [-1, 3] }],
    outputs: [{ name: 'y', shape: [-1, 2] }],
    nodes: [
      { name: 'fc', op: { type: 'Dense', weight: change === 'block' ? hashed : weight, bias: null }, inputs: ['x'], outputs: ['h'] },
      { name: 'act', op: { type: change === 'op' ? 'Erf' : 'Relu' }, inputs: ['h'], outputs: ['y'] },
    ],
    metadata: {},
  };
}

test('min_reader_version is 1.1 for a 1.1 op, int4 values or xxh32-block; a 1.0 reader refuses those files', () => {
  const reader10 = { major: 1, minor: 0 };
  assert.deepStrictEqual(minReaderVersion(model10()), reader10);
  checkReaderVersion(readVersions(encode(model10())), reader10);
  for (const change of ['op', 'int4', 'block'] as const) {
    const model = model10(change);
    assert.deepStrictEqual(minReaderVersion(model), { major: 1, minor: 1 }, change);
    const bytes = encode(model);
    assert.throws(() => checkReaderVersion(readVersions(bytes), reader10), /min_reader_version: file needs a reader of format 1\.1 or newer, this one is 1\.0; upgrade hnet/, change);
    assert.deepStrictEqual(decode(bytes), model, change); // this reader (1.2) reads it
  }
  // This reader (1.2) refuses a file for 1.3 or 2.0.
  assert.throws(() => checkReaderVersion({ format: { major: 1, minor: 3 }, minReader: { major: 1, minor: 3 } }), /needs a reader of format 1\.3/);
  assert.throws(() => checkReaderVersion({ format: { major: 2, minor: 0 }, minReader: { major: 2, minor: 0 } }), /format_version: file is format 2\.0 but this reader supports 1\.2; upgrade hnet/);
});

test('float16 encoding round-trips every finite binary16 value and rounds to nearest even', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = float16Value(bits);
    if (Number.isNaN(value)) continue;
    assert.equal(float16Bits(value), bits, `bits 0x${bits.toString(16)}`);
  }
  assert.equal(float16Bits(1 + 2 ** -11), 0x3c00); // halfway between 1 and the next: ties to even
  assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(float16Bits(70000), 0x7c00); // overflow to +Inf
});

test('int8 storage keeps the largest magnitude exact and the rest within half a step', () => {
  const data = Float32Array.from([0.3, -1.27, 0.005, 1.0]);
  const stored = valuesFromFloat32(data, 'int8');
  assert.equal(stored.dtype, 'int8');
  const back = valuesToFloat32(stored);
  const step = 1.27 / 127;
  data.forEach((v, i) => assert.ok(Math.abs(back[i] - v) <= step / 2 + 1e-7, `${v} -> ${back[i]}`));
  assert.equal(back[1], Math.fround(-1.27));
});
