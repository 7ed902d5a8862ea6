import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fb from '../src/generated/hnet_generated.js';
import { DATA_ALIGNMENT, decode, encode, float16Bits, float16Value, OP_TYPES, valuesFromFloat32, valuesToFloat32 } from '../src/index.js';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import { randomModel } from './models.js';

test('random models round-trip exactly through encode/decode (all ops, all dtypes)', () => {
  const opsSeen = new Set<string>();
  const dtypesSeen = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) {
    const model = randomModel(seed);
    const bytes = encode(model);
    const decoded = decode(bytes);
    assert.deepStrictEqual(decoded, model, `seed ${seed}`);
    assert.deepStrictEqual(encode(decoded), bytes, `seed ${seed}: re-encoding changed the bytes`);
    for (const node of model.nodes) {
      opsSeen.add(node.op.type);
      if (node.op.type === 'Dense' || node.op.type === 'Conv2D') dtypesSeen.add(node.op.weight.values.dtype);
    }
  }
  assert.deepStrictEqual([...opsSeen].sort(), [...OP_TYPES].sort(), 'the generator must cover every op');
  assert.deepStrictEqual([...dtypesSeen].sort(), ['float16', 'float32', 'int8']);
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

test('the file starts with the identifier and records format and min reader versions', () => {
  const bytes = encode(randomModel(1));
  assert.equal(new TextDecoder().decode(bytes.subarray(4, 8)), 'HNET');
  const root = fb.Model.getRootAsModel(new CheckedByteBuffer(bytes));
  assert.deepStrictEqual([root.formatVersion()!.major(), root.formatVersion()!.minor()], [1, 1]);
  assert.deepStrictEqual([root.minReaderVersion()!.major(), root.minReaderVersion()!.minor()], [1, 0]);
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
