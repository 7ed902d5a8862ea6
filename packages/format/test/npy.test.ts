// The NPY reader/writer: files written by NumPy (the fixtures), round trips, bad files.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { NpyError, readNpy, writeNpy } from '../src/index.js';

const fixture = (name: string): string => new URL(`../../../fixtures/${name}`, import.meta.url).pathname;

test('reads float32 files written by NumPy', () => {
  const x = readNpy(readFileSync(fixture('lenet.input.npy')), 'lenet.input.npy');
  assert.deepEqual(x.shape, [3, 1, 28, 28]);
  assert.equal(x.data.length, 3 * 28 * 28);
  assert.ok(x.data.every((v) => v >= 0 && v < 1)); // torch.rand
});

test('write then read is exact, for 1-D, 2-D and scalar shapes; data starts 64-byte aligned', () => {
  for (const shape of [[5], [2, 3], []]) {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.25 - 1);
    const bytes = writeNpy({ shape, data });
    const headerLen = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + headerLen) % 64, 0);
    assert.deepEqual(readNpy(bytes, 'x.npy'), { shape, data });
  }
});

function npyWith(descr: string, shape: string, payload: Uint8Array, fortran = 'False'): Uint8Array {
  const header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`.padEnd(117, ' ') + '\n';
  const out = new Uint8Array(10 + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(payload, 10 + header.length);
  return out;
}

test('other numeric dtypes are converted to float32', () => {
  const f64 = new Float64Array([1.5, -2, 3.25]);
  assert.deepEqual([...readNpy(npyWith('<f8', '(3,)', new Uint8Array(f64.buffer)), 'a').data], [1.5, -2, 3.25]);
  const i64 = new BigInt64Array([7n, -3n]);
  assert.deepEqual([...readNpy(npyWith('<i8', '(2,)', new Uint8Array(i64.buffer)), 'b').data], [7, -3]);
  assert.deepEqual([...readNpy(npyWith('|u1', '(2,)', Uint8Array.of(0, 255)), 'c').data], [0, 255]);
  // Big-endian int16 and float32, as written on a big-endian machine or with dtype('>f4').
  assert.deepEqual([...readNpy(npyWith('>i2', '(2,)', Uint8Array.of(0x01, 0x00, 0xff, 0xfe)), 'd').data], [256, -2]);
  assert.deepEqual([...readNpy(npyWith('>f4', '(1,)', Uint8Array.of(0x3f, 0xc0, 0, 0)), 'e').data], [1.5]);
  assert.deepEqual([...readNpy(npyWith('<f2', '(1,)', Uint8Array.of(0x00, 0x3c)), 'f').data], [1]);
});

test('bad files are typed errors naming the file', () => {
  const bad = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(() => readNpy(bytes, 'in.npy'), (e: unknown) => e instanceof NpyError && e.message.startsWith('in.npy: ') && re.test(e.message));
  bad(new TextEncoder().encode('hello world, not numpy'), /not an \.npy file/);
  bad(npyWith('<f4', '(4,)', new Uint8Array(8)), /8 data bytes for shape \(4\)/);
  bad(npyWith('<c8', '(1,)', new Uint8Array(8)), /dtype '<c8' is not supported/);
  bad(npyWith('<f4', '(2, 2)', new Uint8Array(16), 'True'), /Fortran-order/);
});
