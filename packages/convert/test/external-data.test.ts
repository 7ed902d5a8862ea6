// ONNX external data is untrusted: an initializer's `location` may only name a
// regular file inside the model's folder, and only its declared range is read.
// Every refusal names the initializer and says why; a FIFO or /dev/zero must
// neither block nor be read to the end (the test would hang or run out of memory).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runReference } from '@hnet/format';
import { ConvertError, importOnnx } from '../src/index.js';
import { onnx, type TensorProto } from '../src/onnx/proto.js';
import { assertClose, attr, floatTensor, node, onnxModel, randomArray } from './helpers.js';

const W = randomArray(12, 3); // [3, 4]
const X = { shape: [2, 4], data: randomArray(8, 4) };
const WEIGHT_BYTES = floatTensor('w', [3, 4], W).rawData!;

const dir = mkdtempSync(path.join(tmpdir(), 'hnet-ext-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function external(location: string, offset?: string, length?: string): TensorProto {
  const externalData = [{ key: 'location', value: location }];
  if (offset !== undefined) externalData.push({ key: 'offset', value: offset });
  if (length !== undefined) externalData.push({ key: 'length', value: length });
  return { name: 'w', dims: [3, 4], dataType: 1, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData };
}

/** Writes a Gemm model whose weight "w" is the given tensor into `folder`; returns its path. */
function modelWith(weight: TensorProto, folder = dir, name = 'model.onnx'): string {
  const file = path.join(folder, name);
  writeFileSync(file, onnxModel({
    nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], 'fc', [attr.int('transB', 1)])],
    inputs: [['x', ['N', 4]]],
    outputs: [['y', ['N', 3]]],
    initializers: [weight, floatTensor('b', [3], Float32Array.of(0.5, -1, 2))],
  }));
  return file;
}

function refused(location: string, why: RegExp, offset?: string, length?: string): void {
  const file = modelWith(external(location, offset, length));
  assert.throws(() => importOnnx(file), (e: unknown) => {
    assert.ok(e instanceof ConvertError, `${location}: ${e}`);
    assert.equal(e.code, 'bad-model', `${location}: ${e.message}`);
    assert.match(e.message, /initializer "w"/, location);
    assert.match(e.message, why, location);
    return true;
  });
}

test('external data inside the folder imports; only the declared range is read', () => {
  const payload = new Uint8Array(7 + 48 + 5);
  payload.set(WEIGHT_BYTES, 7);
  writeFileSync(path.join(dir, 'weights.bin'), payload);
  const { model } = importOnnx(modelWith(external('weights.bin', '7', '48')));
  const inline = importOnnx(modelWith(floatTensor('w', [3, 4], W), dir, 'inline.onnx')).model;
  assertClose(runReference(model, { x: X }).y, runReference(inline, { x: X }).y, 0, 'external = inline');
  // In a subfolder, through a symlink that stays inside: fine too.
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'sub', 'w.bin'), WEIGHT_BYTES);
  symlinkSync('sub/w.bin', path.join(dir, 'inside-link.bin'));
  importOnnx(modelWith(external('sub/w.bin')));
  importOnnx(modelWith(external('inside-link.bin', '0', '48')));
});

test('a model saved by onnx with save_as_external_data=True imports', () => {
  const folder = path.join(dir, 'py');
  mkdirSync(folder);
  const script = [
    'import sys, numpy as np, onnx',
    'from onnx import helper, numpy_helper, TensorProto',
    'w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4) / 10, "w")',
    'b = numpy_helper.from_array(np.array([0.5, -1, 2], dtype=np.float32), "b")',
    'g = helper.make_graph([helper.make_node("Gemm", ["x", "w", "b"], ["y"], "fc", transB=1)], "g",',
    '  [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w, b])',
    'm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])',
    'onnx.save_model(m, sys.argv[1], save_as_external_data=True, all_tensors_to_one_file=True, location="weights.data", size_threshold=0)',
  ].join('\n');
  execFileSync('/usr/bin/python3', ['-c', script, path.join(folder, 'model.onnx')]);
  const { model } = importOnnx(path.join(folder, 'model.onnx'));
  const y = runReference(model, { x: { shape: [1, 4], data: Float32Array.of(1, 0, 0, 0) } }).y;
  assertClose(y, { shape: [1, 3], data: Float32Array.of(0.5, -1 + 0.4, 2 + 0.8) }, 1e-6, 'W[:, 0] + b');
});

test('absolute paths, .. escapes and system files are refused, naming the initializer', () => {
  refused('/etc/passwd', /absolute path/);
  refused('../../../../../../../../etc/passwd', /outside the model's folder/);
  refused('/proc/self/environ', /absolute path/);
  refused('/dev/stdin', /absolute path/);
  refused('/dev/zero', /absolute path/);
  refused('../../../../../../../../dev/zero', /outside the model's folder/);
  refused('../../../../../../../../proc/self/environ', /outside the model's folder/);
});

test('symlinks out of the folder, directories and FIFOs are refused without blocking', () => {
  symlinkSync('/etc/passwd', path.join(dir, 'passwd-link.bin'));
  refused('passwd-link.bin', /outside the model's folder/);
  symlinkSync('/dev/zero', path.join(dir, 'zero-link.bin'));
  refused('zero-link.bin', /outside the model's folder/);
  mkdirSync(path.join(dir, 'a-folder'));
  refused('a-folder', /not a regular file/);
  refused('.', /the model's folder itself/);
  execFileSync('mkfifo', [path.join(dir, 'fifo.bin')]);
  refused('fifo.bin', /not a regular file/);
});

test('offset and length must be integers whose range lies in the file and fits the tensor', () => {
  writeFileSync(path.join(dir, 'range.bin'), WEIGHT_BYTES);
  refused('range.bin', /range \[8, 56\) lies outside/, '8', '48');
  refused('range.bin', /range \[0, 1000000000000\) lies outside/, '0', '1000000000000');
  refused('range.bin', /holds 40 bytes, the tensor needs 48/, '8');
  refused('range.bin', /holds 44 bytes, the tensor needs 48/, '0', '44');
  refused('range.bin', /offset "-4" is not a non-negative integer/, '-4', '48');
  refused('range.bin', /length "48.5" is not a non-negative integer/, '0', '48.5');
  refused('range.bin', /offset "1e3" is not a non-negative integer/, '1e3', '48');
});
