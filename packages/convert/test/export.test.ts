// export-onnx writes models that ONNX itself accepts: checked by an
// onnx.checker-like name check in TypeScript and by onnx.checker
// (python3-onnx) on the fixtures and on models whose names invite collisions.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { plainWeight, runReference, type Model } from '@hnet/format';
import { exportOnnx, importOnnx } from '../src/index.js';
import { onnx } from '../src/onnx/proto.js';
import { assertClose, fixture, randomArray, runOrt } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hnet-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every tensor defined once (graph inputs, initializers, node outputs) and defined before it is read; node names unique. */
function nameProblems(bytes: Uint8Array): string[] {
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const problems: string[] = [];
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (defined.has(name)) problems.push(`duplicate definition of "${name}" (${what})`);
    defined.add(name);
  };
  for (const v of graph.input ?? []) define(v.name ?? '', 'graph input');
  for (const t of graph.initializer ?? []) define(t.name ?? '', 'initializer');
  const nodeNames = new Set<string>();
  for (const n of graph.node ?? []) {
    if (nodeNames.has(n.name ?? '')) problems.push(`duplicate node name "${n.name}"`);
    nodeNames.add(n.name ?? '');
    for (const i of n.input ?? []) if (i && !defined.has(i)) problems.push(`node "${n.name}" reads "${i}" before it is defined`);
    for (const o of n.output ?? []) define(o, `output of node "${n.name}"`);
  }
  for (const o of graph.output ?? []) if (!defined.has(o.name ?? '')) problems.push(`graph output "${o.name}" is not defined`);
  return problems;
}

/** onnx.checker.check_model with full_check (shape inference included); throws with its message. */
function onnxChecker(bytes: Uint8Array, name: string): void {
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  execFileSync('/usr/bin/python3', ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { stdio: ['ignore', 'ignore', 'pipe'] });
}

const dense = (rows: number, cols: number, seed: number) => ({
  type: 'Dense' as const, weight: plainWeight(randomArray(rows * cols, seed), [rows, cols]), bias: plainWeight(randomArray(rows, seed + 1), [rows]),
});

test('generated initializer names avoid every tensor name: node "fc" with output "fc.weight"', async () => {
  const model: Model = {
    inputs: [{ name: 'fc.bias', shape: [-1, 4] }],
    outputs: [{ name: 'fc.weight_1', shape: [-1, 2] }],
    nodes: [
      { name: 'fc', op: dense(3, 4, 1), inputs: ['fc.bias'], outputs: ['fc.weight'] },
      { name: 'fc', op: { type: 'Relu' }, inputs: ['fc.weight'], outputs: ['fc.weight.shape'] },
      { name: 'fc.weight', op: dense(2, 3, 5), inputs: ['fc.weight.shape'], outputs: ['fc.weight_1'] },
    ],
    metadata: {},
  };
  const bytes = exportOnnx(model);
  assert.deepEqual(nameProblems(bytes), []);
  onnxChecker(bytes, 'collisions');
  const x = { shape: [2, 4], data: randomArray(8, 9) };
  const ours = runReference(model, { 'fc.bias': x })['fc.weight_1'];
  assertClose((await runOrt(bytes, { 'fc.bias': x }))['fc.weight_1'], ours, 1e-5, 'onnxruntime on the export');
});

for (const name of ['mlp', 'lenet', 'bn_residual', 'vgg_small', 'mnist_mlp']) {
  test(`fixture ${name}: the export passes the name check and onnx.checker`, () => {
    const bytes = exportOnnx(importOnnx(fixture(`${name}.onnx`)).model);
    assert.deepEqual(nameProblems(bytes), []);
    onnxChecker(bytes, name);
  });
}
