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
import { decode, encode, FORMAT_VERSION, formatVersionString, plainWeight, readNpy, readVersions, runReference, weightsOf, writeNpy, type Model } from '@hnet/format';
// The ONNX builders and fixtures of @hnet/convert's own tests: the CLI reads the same models.
import { assertClose, attr, fixture, floatTensor, loadNpy, node, onnx, onnxModel, randomArray, runOrt } from '../../convert/test/helpers.js';
import { BIN, runHnet, type CliResult } from './helpers.js';

const MAIN = path.resolve(path.dirname(BIN), '../dist/main.js');
let dir = '';

before(() => {
  assert.ok(existsSync(MAIN), `${MAIN} is missing: run "npm run build" before the CLI tests`);
  dir = mkdtempSync(path.join(tmpdir(), 'hnet-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const hnet = (...args: string[]): CliResult => runHnet(dir, ...args);
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

test('convert says why it hashed nothing when every weight is below --min-virtual, and says nothing at compression 1', () => {
  const small = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'small.hnet', '--compression', '1/8', '--min-virtual', '1000000');
  assert.equal(small.code, 0, small.stderr);
  assert.match(small.stdout, /\(1\.00× fewer\)/);
  assert.match(small.stdout, /nothing was hashed: every weight has fewer than 1,000,000 virtual values \(--min-virtual\) or is kept by --dense; lower --min-virtual or give --buckets NAME=K/);
  const exact = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'exact.hnet');
  assert.equal(exact.code, 0, exact.stderr);
  assert.doesNotMatch(exact.stdout, /nothing was hashed/);
});

/** NAME.hnet, a conversion of mnist_mlp.onnx: `hnet run` in both modes and its export-onnx match the reference forward of `model`. */
async function assertRunsAndExports(name: string, model: Model): Promise<void> {
  const x = loadNpy(fixture('mnist_mlp.input.npy'));
  const expected = runReference(model, { input: x }).output;
  for (const mode of ['materialized', 'streaming']) {
    const run = hnet('run', `${name}.hnet`, '--input', fixture('mnist_mlp.input.npy'), '--output', `${name}-${mode}.npy`, '--mode', mode);
    assert.equal(run.code, 0, run.stderr);
    assertClose(readNpy(readFileSync(at(`${name}-${mode}.npy`)), 'y.npy'), expected, 1e-5, `hnet run --mode ${mode}`);
  }
  const exp = hnet('export-onnx', `${name}.hnet`, '-o', `${name}.onnx`);
  assert.equal(exp.code, 0, exp.stderr);
  assertClose((await runOrt(at(`${name}.onnx`), { input: x })).output, expected, 1e-4, 'exported ONNX vs the reference');
}

test('convert --hash xxh32-aligned-block: format 1.2, Z per layer (64 with two run starts per row) lowered to a multiple of 4 within K, and inspect, run (both modes) and export-onnx agree', async () => {
  // fc1 has K = 12,544 for 128 rows: Z = 64. --buckets /fc2/Gemm=10: K not a multiple of 4, and below 32, so that layer's Z is 8
  const conv = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'a.hnet', '--compression', '1/8', '--hash', 'xxh32-aligned-block', '--buckets', '/fc2/Gemm=10');
  assert.equal(conv.code, 0, conv.stderr);
  const bytes = readFileSync(at('a.hnet'));
  assert.deepEqual(readVersions(bytes).minReader, { major: 1, minor: 2 });
  const model = decode(bytes);
  const hashes = model.nodes.map((n) => weightsOf(n.op)?.weight.hash).filter((h) => h);
  assert.deepEqual(hashes.map((h) => h!.algorithm === 'xxh32' ? null : [h!.algorithm, h!.block]), [['xxh32-aligned-block', 64], ['xxh32-aligned-block', 8]]);
  assert.match(model.metadata['hash.policy'], /"hash":"xxh32-aligned-block","block":"per layer"/);
  assert.match(hnet('inspect', 'a.hnet').stdout, /xxh32-aligned-block Z=8 K=10 bucket seed/);
  await assertRunsAndExports('a', model);
});

test('convert --hash xxh32-block --block 16: recorded per weight and in hash.policy, and inspect, run (both modes) and export-onnx agree', async () => {
  const conv = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'b.hnet', '--compression', '1/8', '--hash', 'xxh32-block', '--block', '16');
  assert.equal(conv.code, 0, conv.stderr);
  const model = decode(readFileSync(at('b.hnet')));
  const fc1 = model.nodes.find((n) => n.op.type === 'Dense')!.op as { weight: { hash: unknown } };
  assert.deepEqual(Object.keys(fc1.weight.hash as object).sort(), ['algorithm', 'block', 'bucketSeed', 'signSeed']);
  assert.equal((fc1.weight.hash as { algorithm: string; block: number }).algorithm, 'xxh32-block');
  assert.equal((fc1.weight.hash as { block: number }).block, 16);
  assert.match(model.metadata['hash.policy'], /"hash":"xxh32-block","block":16/);
  const inspect = hnet('inspect', 'b.hnet');
  assert.match(inspect.stdout, /xxh32-block Z=16 K=25,088 bucket seed/);
  await assertRunsAndExports('b', model);
  // the default Z, and the usage errors
  const byDefault = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'd.hnet', '--compression', '1/8', '--hash', 'xxh32-block');
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.match(decode(readFileSync(at('d.hnet'))).metadata['hash.policy'], /"block":32/);
  for (const [flags, message] of [
    [['--block', '8'], /--block needs a block hash in --hash \(xxh32-block or xxh32-aligned-block\)/],
    [['--hash', 'xxh32-block', '--block', '33'], /--block 33: xxh32-block takes 1\.\.32/],
    [['--hash', 'xxh32-aligned-block', '--block', '68'], /--block must be an integer in \[1, 64\], got "68"/],
    [['--hash', 'xxh32-aligned-block', '--block', '6'], /--block 6: xxh32-aligned-block takes a multiple of 4 \(4, 8, \.\., 64\)/],
    [['--hash', 'md5'], /--hash takes xxh32, xxh32-block, xxh32-aligned-block, got "md5"/],
  ] as const) {
    const bad = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'bad.hnet', '--compression', '1/8', ...flags);
    assert.equal(bad.code, 2, bad.stderr);
    assertShortError(bad.stderr, message);
  }
  assert.equal(existsSync(at('bad.hnet')), false);
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

test('inspect and error messages escape control characters from names and metadata (no terminal injection)', () => {
  const evil = '\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e';
  const model: Model = {
    inputs: [{ name: `x${evil}`, shape: [-1, 2] }],
    outputs: [{ name: 'y', shape: [-1, 2] }],
    nodes: [{ name: `fc${evil}`, op: { type: 'Dense', weight: plainWeight(Float32Array.of(1, 0, 0, 1), [2, 2]), bias: null }, inputs: [`x${evil}`], outputs: ['y'] }],
    metadata: { [`key${evil}`]: `value${evil}` },
  };
  writeFileSync(at('evil.hnet'), encode(model));
  const raw = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;
  const text = hnet('inspect', 'evil.hnet');
  assert.equal(text.code, 0, text.stderr);
  assert.doesNotMatch(text.stdout, raw);
  assert.match(text.stdout, /fc\\u001b\]0;pwned\\u0007\\u001b\[2J\\u009b31m\\u202e/);
  assert.match(text.stdout, /key\\u001b.*: value\\u001b/);
  const json = hnet('inspect', 'evil.hnet', '--json');
  assert.doesNotMatch(json.stdout, raw);
  assert.equal(JSON.parse(json.stdout).metadata[`key${evil}`], `value${evil}`, 'the JSON still carries the exact strings');
  // An error quoting a node name from the file (Elu: an op the importer refuses).
  writeFileSync(at('evil.onnx'), onnxModel({ nodes: [node('Elu', ['x'], ['y'], `elu${evil}`)], inputs: [['x', ['N', 2]]], outputs: [['y', ['N', 2]]] }));
  const err = hnet('convert', 'evil.onnx', '-o', 'evil-out.hnet');
  assert.equal(err.code, 3);
  assert.doesNotMatch(err.stderr, raw);
  assert.match(err.stderr, /elu\\u001b\]0;pwned/);
});

test('--json prints NaN and Infinity as strings, not as null', () => {
  const model: Model = {
    inputs: [{ name: 'x', shape: [-1, 3] }],
    outputs: [{ name: 'y', shape: [-1, 3] }],
    // y = 0·x + b with b = [NaN, Infinity, 1]
    nodes: [{ name: 'fc', op: { type: 'Dense', weight: plainWeight(new Float32Array(9), [3, 3]), bias: plainWeight(Float32Array.of(NaN, Infinity, 1), [3]) }, inputs: ['x'], outputs: ['y'] }],
    metadata: {},
  };
  writeFileSync(at('nan.hnet'), encode(model));
  writeFileSync(at('zeros.npy'), writeNpy({ shape: [1, 3], data: new Float32Array(3) }));
  const r = hnet('run', 'nan.hnet', '--input', 'zeros.npy', '--engine', 'reference', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).outputs.y.data, ['NaN', 'Infinity', 1]);
});

test('bench notes that per-element hashing streams slowly at small batches, and names block hashing', () => {
  // --min-virtual 0: the fixture's layers are small enough to stay dense at 1/8 otherwise
  assert.equal(hnet('convert', fixture('mlp.onnx'), '-o', 'hint-xxh32.hnet', '-c', '1/8', '--min-virtual', '0').code, 0);
  assert.equal(hnet('convert', fixture('mlp.onnx'), '-o', 'hint-block.hnet', '-c', '1/8', '--min-virtual', '0', '--hash', 'xxh32-block').code, 0);
  const perElement = hnet('bench', 'hint-xxh32.hnet', '--batch', '1', '--seconds', '0.01', '--json');
  assert.equal(perElement.code, 0, perElement.stderr);
  assert.match(perElement.stderr, /streaming at batch 1 \([\d.]+× the materialized time\), this file's \d+ per-element-hashed \(xxh32\) weight\(s\) cost two hashes per virtual weight per call\. Converted with --hash xxh32-aligned-block/);
  assert.equal(JSON.parse(perElement.stdout).length, 2); // the note stays off stdout
  const dense = hnet('convert', fixture('mlp.onnx'), '-o', 'hint-dense.hnet');
  assert.equal(dense.code, 0);
  for (const quiet of [['hint-block.hnet', '--batch', '1'], ['hint-dense.hnet', '--batch', '1'], ['hint-xxh32.hnet', '--batch', '64'], ['hint-xxh32.hnet', '--batch', '1', '--mode', 'materialized']]) {
    const r = hnet('bench', ...quiet, '--seconds', '0.01');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /--hash xxh32-aligned-block/, quiet.join(' '));
  }
});

test('bench still reports streaming when materialized does not fit the memory budget', () => {
  assert.equal(hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'bench.hnet', '--compression', '1/8').code, 0);
  const r = hnet('bench', 'bench.hnet', '--memory-budget', '300000', '--seconds', '0.01', '--batch', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).map((row: { mode: string }) => row.mode), ['streaming']);
  assert.match(r.stderr, /materialized: skipped, does not fit: .*over the memory budget of 300000 bytes/);
  const only = hnet('bench', 'bench.hnet', '--memory-budget', '300000', '--seconds', '0.01', '--mode', 'materialized');
  assert.equal(only.code, 3, 'the only mode asked for does not fit: an error');
  assertShortError(only.stderr, /over the memory budget/);
});

test('every verb that reads an .onnx refuses external data outside its folder: run, eval, train --teacher', () => {
  const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/hostile/onnx');
  writeFileSync(at('x4.npy'), writeNpy({ shape: [1, 4], data: new Float32Array(4) }));
  writeFileSync(at('d4.csv'), 'label,a,b,c,d\n0,1,2,3,4\n1,1,2,3,4\n2,0,0,0,1\n');
  const refused = /initializer "w": external data location ".*" refused/;
  const run = hnet('run', path.join(corpus, 'ext-absolute-etc-passwd.onnx'), '--input', 'x4.npy');
  assert.equal(run.code, 3);
  assertShortError(run.stderr, refused, /an absolute path/);
  const evaluated = hnet('eval', path.join(corpus, 'ext-dotdot-etc-passwd.onnx'), '--data', 'd4.csv');
  assert.equal(evaluated.code, 3);
  assertShortError(evaluated.stderr, refused, /resolves to \/etc\/passwd, outside the model's folder/);
  const trained = hnet('train', path.join(corpus, 'ext-ok.onnx'), '-o', 'teacher.hnet', '--data', 'd4.csv', '--teacher', path.join(corpus, 'ext-dev-zero.onnx'), '--epochs', '1', '--quiet');
  assert.equal(trained.code, 3);
  assertShortError(trained.stderr, refused, /"\/dev\/zero" refused: an absolute path/);
  assert.equal(existsSync(at('teacher.hnet')), false);
});

test('a closed stdout pipe (hnet inspect | head -1) ends quietly, without an EPIPE stack trace', () => {
  assert.equal(hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'pipe.hnet').code, 0);
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" inspect pipe.hnet | head -1`], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^pipe\.hnet: \.hnet format/);
  assert.equal(r.stderr, '');
});
