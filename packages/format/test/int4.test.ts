// int4 values (format 1.1): two per byte in the file, element 2i in the low
// nibble of byte i; the model holds one q in [-7, 7] per element.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckedByteBuffer } from '../src/codec/checked-byte-buffer.js';
import * as fb from '../src/generated/hnet_generated.js';
import { decode, encode, hashedWeight, HnetFormatError, minReaderVersion, packInt4, unpackInt4, valuesToFloat32, type Model, type Weight } from '../src/index.js';

function denseModel(weight: Weight): Model {
  return {
    inputs: [{ name: 'x', shape: [-1, weight.shape[1]] }],
    outputs: [{ name: 'y', shape: [-1, weight.shape[0]] }],
    nodes: [{ name: 'fc', op: { type: 'Dense', weight, bias: null }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
}

const int4Weight = (q: number[], shape: number[]): Weight => ({ shape, hash: null, values: { dtype: 'int4', data: Int8Array.from(q), scale: 0.5 } });

test('packInt4 puts element 2i in the low nibble of byte i; unpackInt4 is its inverse', () => {
  const q = Int8Array.from([1, -1, 7, -7, 0, 3, -2]);
  const bytes = packInt4(q);
  assert.deepStrictEqual([...bytes], [0xf1, 0x97, 0x30, 0x0e]); // 7 values → 4 bytes, the last high nibble 0
  assert.deepStrictEqual(unpackInt4(bytes, q.length), q);
});

test('int4 weights round-trip exactly, odd counts included, and need a 1.1 reader', () => {
  const q = [-7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7];
  const model = denseModel(int4Weight(q, [3, 5]));
  const bytes = encode(model);
  assert.deepStrictEqual(decode(bytes), model);
  assert.deepStrictEqual(minReaderVersion(model), { major: 1, minor: 1 });
  const values = fb.Model.getRootAsModel(new CheckedByteBuffer(bytes)).nodes(0)!.op(new fb.Dense())!.weight()!.values()!;
  assert.equal(values.count(), 15);
  assert.equal(values.dataArray()!.length, 8);
  assert.equal(values.scale(), 0.5);
});

test('hashed int4 buckets are the float32 buckets to within half a step of max|w| / 7', () => {
  const dense = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
  const hash = { algorithm: 'xxh32', bucketSeed: 3, signSeed: 4 } as const;
  const weight = hashedWeight(dense, [5, 8], hash, 9, 'int4');
  const decoded = decode(encode(denseModel(weight))).nodes[0].op;
  assert.ok(decoded.type === 'Dense');
  assert.deepStrictEqual(decoded.weight, weight);
  const float = valuesToFloat32(hashedWeight(dense, [5, 8], hash, 9, 'float32').values);
  const step = Math.max(...float.map(Math.abs)) / 7;
  valuesToFloat32(weight.values).forEach((v, k) => assert.ok(Math.abs(v - float[k]) <= step / 2 + 1e-6, `bucket ${k}: ${v} vs ${float[k]}`));
});

test('int4 values outside [-7, 7] are refused by encode and by decode', () => {
  assert.throws(() => encode(denseModel(int4Weight([8, 0, 0, 0], [2, 2]))), (e: unknown) => e instanceof HnetFormatError && /int4 value 0 is 8, outside \[-7, 7\]/.test(e.message));
  // -8 (nibble 0x8) fits in four bits, so only a forged file carries it.
  const bytes = encode(denseModel(int4Weight([1, 2, 3, 4], [2, 2])));
  const data = fb.Model.getRootAsModel(new CheckedByteBuffer(bytes)).nodes(0)!.op(new fb.Dense())!.weight()!.values()!.dataArray()!;
  data[1] = 0x80; // element 3 = -8
  assert.throws(() => decode(bytes), (e: unknown) => e instanceof HnetFormatError && e.code === 'invalid-field' && /values\.data: int4 value 3 is -8/.test(e.message));
  assert.throws(() => encode(denseModel({ ...int4Weight([1, 2, 3, 4], [2, 2]), values: { dtype: 'int4', data: Int8Array.from([1, 2, 3, 4]), scale: 0 } })), /int4 scale must be finite and > 0/);
});
