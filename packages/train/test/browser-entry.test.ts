// @hnet/train/browser: what it loads (no Node, no onnx-proto, no TensorFlow.js)
// and that the engine on onnxruntime-web (its WASM backend, run here in
// Node) steps exactly as it does on onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { randomArray, rng } from '@hnet/format/testing';
import { createOrtEngine } from '../src/browser.js';
import type { Batch, EngineOptions } from '../src/engine.js';
import { denseZoo, convZoo, sequenceZoo11, visionZoo11 } from './ort-models.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** Every module specifier reachable from a source file through static and dynamic imports, ours followed. */
function reachableImports(entry: string): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const [typeOnly, spec] = [m[1], m[2] ?? m[3]];
      if (typeOnly) continue; // erased by tsc
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...seen].map((f) => path.relative(SRC, f)).sort(), packages };
}

test('the browser entry reaches only @hnet/format among packages: no node:*, onnxruntime-node, onnx-proto or tfjs', () => {
  const { files, packages } = reachableImports(path.join(SRC, 'browser.ts'));
  assert.deepEqual([...packages].sort(), ['@hnet/format'], `reached from ${files.join(', ')}`);
  for (const f of ['engines.ts', 'train.ts', 'data.ts', 'tfjs-engine.ts', 'ort/node.ts']) assert.ok(!files.includes(f), `${f} is reachable`);
  // the walk itself: from the Node entry it does find them
  const node = reachableImports(path.join(SRC, 'index.ts')).packages;
  for (const p of ['@tensorflow/tfjs', 'onnxruntime-node', 'node:os', 'node:fs']) assert.ok(node.has(p), `${p} from index.ts`);
});

// onnxruntime-web in Node: single-threaded WASM, its .wasm found next to its own module.
ortWeb.env.wasm.numThreads = 1;

function batch(random: () => number, count: number, inputs: number, classes: number): Batch {
  return {
    count,
    x: randomArray(random, count * inputs, 1.5),
    labels: Int32Array.from({ length: count }, () => Math.floor(random() * classes)),
    teacher: randomArray(random, count * classes, 3),
  };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const CASES: { name: string; make: typeof denseZoo; inputs: number; classes: number; options: EngineOptions }[] = [
  { name: 'dense zoo, SGD with Nesterov momentum, distillation', make: denseZoo, inputs: 10, classes: 5, options: { loss: { alpha: 0.3, temperature: 2 }, optimizer: { name: 'sgd', momentum: 0.8, nesterov: true }, weightDecay: 1e-3 } },
  { name: 'conv zoo, Adam, labels', make: convZoo, inputs: 72, classes: 3, options: { optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } } },
  { name: '1.1 vision zoo, SGD with momentum, labels', make: visionZoo11, inputs: 72, classes: 3, options: {} },
  { name: '1.1 sequence zoo, Adam, distillation', make: sequenceZoo11, inputs: 24, classes: 4, options: { loss: { alpha: 0, temperature: 2 }, optimizer: { name: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } } },
];

for (const c of CASES) {
  test(`onnxruntime-web (WASM) and onnxruntime-node give the same steps within 1e-4: ${c.name}`, async () => {
    const model = c.make(rng(5), 'float16', true);
    const web = await createOrtEngine(model, { ...c.options, threads: 1 }, ortWeb);
    const node = await createOrtEngine(model, { ...c.options, threads: 1 }, ortNode);
    assert.match(web.description, /^ort \(onnxruntime-web 1\.\d+\.\d+, 1 thread\)$/);
    assert.match(node.description, /^ort \(onnxruntime-node 1\.\d+\.\d+, 1 thread\)$/);
    const random = rng(6);
    for (let s = 0; s < 5; s++) {
      const b = batch(random, 8, c.inputs, c.classes);
      const [w, n] = [await web.step(b, 0.05), await node.step(b, 0.05)];
      assert.ok(Math.abs(w.loss - n.loss) < 1e-4, `step ${s}: loss ${w.loss} (web) vs ${n.loss} (node)`);
      assert.equal(w.hits, n.hits, `step ${s}: hits`);
    }
    const [pw, pn] = [web.snapshot(), node.snapshot()];
    pw.forEach((p, k) => assert.ok(maxDiff(p, pn[k]) < 1e-4, `parameter ${k} after 5 steps: max |web − node| = ${maxDiff(p, pn[k])}`));
    const x = batch(random, 3, c.inputs, c.classes).x;
    assert.ok(maxDiff(await web.logits(x, 3), await node.logits(x, 3)) < 1e-4, 'logits');
    await web.dispose();
    await node.dispose();
  });
}
