// The `hnet` CLI, spawned from its built bin (npm run build first): exit
// codes, one- or two-line errors without stack traces, atomic output files,
// and the convert → inspect → run → export-onnx path.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode, FORMAT_VERSION, formatVersionString, readNpy, runReference } from '@hnet/format';
// The ONNX builders and fixtures of @hnet/convert's own tests: the CLI reads the same models.
import { assertClose, attr, fixture, floatTensor, loadNpy, node, onnx, onnxModel, randomArray, runOrt } from '../../convert/test/helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/hnet.js');
const MAIN = path.resolve(path.dirname(BIN), '../dist/main.js');
let dir = '';

before(() => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run "npm run build" before the CLI tests`);
  dir = mkdtempSync(path.join(tmpdir(), 'hnet-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function hnet(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, HNET_DEBUG: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const at = (name: string): string => path.join(dir, name);

/** An error is one or two lines, names something, and has no stack trace. */
function assertShortError(stderr: string, ...patterns: RegExp[]): void {
  const lines = stderr.trimEnd().split('\n');
  assert.ok(lines.length <= 2 || /nothing was written/.test(lines[0]), `too long:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at .*:\d+:\d+/, 'stack trace in the message');
  for (const p of patterns) assert.match(stderr, p);
}

test('--help, per-verb help with an example, and usage errors (exit 2)', () => {
  const main = hnet('--help');
  assert.equal(main.code, 0);
  for (const verb of ['convert', 'export-onnx', 'run', 'inspect']) {
    assert.match(main.stdout, new RegExp(`^  ${verb} `, 'm'));
    const help = hnet(verb, '--help');
    assert.equal(help.code, 0, verb);
    assert.match(help.stdout, /^usage: hnet /);
    assert.match(help.stdout, /^examples?:\n  hnet /m);
  }
  assert.equal(hnet().code, 2);
  const { version } = JSON.parse(readFileSync(path.resolve(path.dirname(BIN), '../package.json'), 'utf8'));
  assert.equal(hnet('--version').stdout, `hnet ${version} (.hnet format ${formatVersionString(FORMAT_VERSION)})\n`);
  const unknown = hnet('frobnicate');
  assert.equal(unknown.code, 2);
  assertShortError(unknown.stderr, /unknown command "frobnicate"/);
  const flag = hnet('convert', fixture('mlp.onnx'), '-o', 'x.hnet', '--compresion', '1/8');
  assert.equal(flag.code, 2);
  assertShortError(flag.stderr, /unknown option --compresion/, /hnet convert --help/);
  const missing = hnet('convert', fixture('mlp.onnx'));
  assert.equal(missing.code, 2);
  assertShortError(missing.stderr, /missing -o OUTPUT/);
  const fraction = hnet('convert', fixture('mlp.onnx'), '-o', 'x.hnet', '--compression', '8');
  assert.equal(fraction.code, 2);
  assertShortError(fraction.stderr, /--compression must be a fraction/);
  const layer = hnet('convert', fixture('mlp.onnx'), '-o', 'x.hnet', '--dense', 'nope');
  assert.equal(layer.code, 2);
  assertShortError(layer.stderr, /no Dense\/Conv2D layer named "nope"/);
  assert.ok(!existsSync(at('x.hnet')));
});

test('bad input files exit 3 with the file named', () => {
  const missing = hnet('inspect', 'nope.hnet');
  assert.equal(missing.code, 3);
  assertShortError(missing.stderr, /nope\.hnet: cannot read the \.hnet model \(no such file\)/);
  writeFileSync(at('garbage.onnx'), 'this is not protobuf at all');
  const garbage = hnet('convert', 'garbage.onnx', '-o', 'g.hnet');
  assert.equal(garbage.code, 3);
  assertShortError(garbage.stderr, /garbage\.onnx: not an ONNX model/);
  const onnxAsHnet = hnet('inspect', fixture('mlp.onnx'));
  assert.equal(onnxAsHnet.code, 3);
  assertShortError(onnxAsHnet.stderr, /mlp\.onnx: .*convert it first/);
});

test('an unsupported model is refused with every node listed, and an existing output is left untouched', () => {
  writeFileSync(at('bad.onnx'), onnxModel({
    nodes: [
      node('Elu', ['x'], ['t'], 'elu1'),
      node('Relu', ['t'], ['r'], 'relu'),
      node('Gemm', ['r', 'w'], ['y'], 'fc', [attr.int('transA', 1)]),
    ],
    inputs: [['x', [4, 4]]],
    outputs: [['y', [4, 4]]],
    initializers: [floatTensor('w', [4, 4], randomArray(16))],
  }));
  writeFileSync(at('out.hnet'), 'previous contents');
  const r = hnet('convert', 'bad.onnx', '-o', 'out.hnet');
  assert.equal(r.code, 3);
  assert.match(r.stderr, /bad\.onnx: 2 nodes cannot be converted; nothing was written:/);
  assert.match(r.stderr, /^ {2}elu1 \(Elu\): op not supported$/m);
  assert.match(r.stderr, /^ {2}fc \(Gemm\): transA=1/m);
  assert.match(r.stderr, /^what to do:\n {2}Elu: not supported in hnet [\d.]+: the activations hnet runs are .*\n {2}supported ops: docs\/CLI\.md/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(readFileSync(at('out.hnet'), 'utf8'), 'previous contents');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('convert → inspect → run → export-onnx on the MNIST MLP', async () => {
  const conv = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'm.hnet', '--compression', '1/8', '--seed', '42', '--bucket-dtype', 'float16');
  assert.equal(conv.code, 0, conv.stderr);
  assert.match(conv.stdout, /\/fc1\/Gemm\s+weight\s+\[256×784\]\s+200,704\s+25,088 buckets\s+float16\s+0\.\d{4}/);
  assert.match(conv.stdout, /wrote m\.hnet/);
  const model = decode(readFileSync(at('m.hnet')));

  const inspect = hnet('inspect', 'm.hnet');
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /xxh32 K=25,088 bucket seed 0x[0-9a-f]{8} sign seed 0x[0-9a-f]{8}/);
  assert.match(inspect.stdout, /size: .* file vs .* dense float32 weights/);
  assert.match(inspect.stdout, /hash\.policy: .*"seed":42/);
  const json = JSON.parse(hnet('inspect', 'm.hnet', '--json').stdout);
  assert.equal(json.weights[0].hash.buckets, 25088);
  assert.equal(json.parameters.virtual, 784 * 256 + 256 + 2560 + 10);

  const x = loadNpy(fixture('mnist_mlp.input.npy'));
  // The default engine is the WASM runtime; --engine reference is the exact oracle.
  const run = hnet('run', 'm.hnet', '--input', fixture('mnist_mlp.input.npy'), '--output', 'y.npy');
  assert.equal(run.code, 0, run.stderr);
  const y = readNpy(readFileSync(at('y.npy')), 'y.npy');
  const expected = runReference(model, { input: x }).output;
  assertClose(y, expected, 1e-5, 'hnet run output (wasm)');
  const ref = hnet('run', 'm.hnet', '--input', fixture('mnist_mlp.input.npy'), '--output', 'y-ref.npy', '--engine', 'reference');
  assert.equal(ref.code, 0, ref.stderr);
  assertClose(readNpy(readFileSync(at('y-ref.npy')), 'y-ref.npy'), expected, 0, 'hnet run output (reference)');
  const printed = hnet('run', 'm.hnet', '-i', fixture('mnist_mlp.input.npy'));
  assert.match(printed.stdout, /^output \[8, 10\]\n {2}\[0\] argmax \d/);

  const exp = hnet('export-onnx', 'm.hnet', '-o', 'm.onnx');
  assert.equal(exp.code, 0, exp.stderr);
  assertClose((await runOrt(at('m.onnx'), { input: x })).output, y, 1e-4, 'exported ONNX vs hnet run');
});

test('run: TensorProto .pb input, a single sample gets a batch of 1, a wrong shape exits 3', () => {
  assert.equal(hnet('convert', fixture('mlp.onnx'), '-o', 'mlp.hnet').code, 0);
  const x = loadNpy(fixture('mlp.input.npy'));
  const sample = x.data.subarray(0, 196);
  writeFileSync(at('x.pb'), onnx.TensorProto.encode(floatTensor('input', [1, 14, 14], sample)).finish());
  const r = hnet('run', 'mlp.hnet', '--input', 'x.pb', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout).outputs.output;
  assert.deepEqual(out.shape, [1, 10]);
  const expected = loadNpy(fixture('mlp.output.npy')).data.subarray(0, 10);
  out.data.forEach((v: number, i: number) => assert.ok(Math.abs(v - expected[i]) < 1e-5));
  writeFileSync(at('bad.pb'), onnx.TensorProto.encode(floatTensor('input', [2, 7], new Float32Array(14))).finish());
  const bad = hnet('run', 'mlp.hnet', '--input', 'bad.pb');
  assert.equal(bad.code, 3);
  assertShortError(bad.stderr, /bad\.pb: shape \[2, 7\] does not fit model input "input" \[N, 1, 14, 14\]/);
  const engine = hnet('run', 'mlp.hnet', '--input', 'x.pb', '--engine', 'gpu9000');
  assert.equal(engine.code, 2);
  assertShortError(engine.stderr, /unknown --engine "gpu9000"; available: reference, wasm/);
});

test('--mode reaches the WASM runtime from run and bench; the reference engine has one mode', () => {
  assert.equal(hnet('convert', fixture('mlp.onnx'), '-o', 'mlp.hnet').code, 0);
  const x = loadNpy(fixture('mlp.input.npy'));
  const expected = loadNpy(fixture('mlp.output.npy'));
  for (const mode of ['materialized', 'streaming', 'auto']) {
    const r = hnet('run', 'mlp.hnet', '--input', fixture('mlp.input.npy'), '--mode', mode, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout).outputs.output;
    assertClose({ shape: out.shape, data: Float32Array.from(out.data) }, { shape: [x.shape[0], 10], data: expected.data }, 1e-4, `run --mode ${mode}`);
  }
  const rows = JSON.parse(hnet('bench', 'mlp.hnet', '--mode', 'streaming', '--batch', '2', '--seconds', '0.01', '--json').stdout);
  assert.deepEqual(rows.map((r: { mode: string; batch: number }) => [r.mode, r.batch]), [['streaming', 2]]);
  const both = JSON.parse(hnet('bench', 'mlp.hnet', '--batch', '1', '--seconds', '0.01', '--json').stdout);
  assert.deepEqual(both.map((r: { mode: string }) => r.mode), ['materialized', 'streaming']);
  const bad = hnet('run', 'mlp.hnet', '--input', fixture('mlp.input.npy'), '--mode', 'fast');
  assert.equal(bad.code, 2);
  assertShortError(bad.stderr, /--mode must be one of auto, materialized, streaming, got "fast"/);
  const reference = hnet('run', 'mlp.hnet', '--input', fixture('mlp.input.npy'), '--engine', 'reference', '--mode', 'streaming');
  assert.equal(reference.code, 2);
  assertShortError(reference.stderr, /--mode streaming: engine reference only runs in mode auto/);
});
