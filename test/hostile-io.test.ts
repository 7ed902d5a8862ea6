// Replays the hostile inputs of the ONNX importer, the data loaders and the
// CLI verbs that read them (test/hostile/manifest.json; files rebuilt by
// scripts/make-hostile-inputs.py). The .hnet readers' loaders ("format",
// "wasm") are replayed by test/hostile.test.ts; a loader key neither test
// knows fails here, so nothing is skipped silently.
//
// Loaders, and what their `error` is:
//   import            importOnnx(path) in process              ConvertError.code
//   data              loadData(path) in process                TrainError.code
//   hnet convert      hnet convert FILE -o OUT.hnet            "exit N"
//   hnet eval         hnet eval fixtures/mlp.onnx --data FILE  "exit N" (10 classes, input [N, 1, 14, 14])
//   hnet export-onnx  hnet convert, then export-onnx, then onnx.checker (accept only)
// In-process loaders must stay within 100 MiB of RSS growth; a CLI refusal is
// one or two lines without a stack trace and leaves no output file.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConvertError, importOnnx } from '@hnet/convert';
import { loadData, TrainError } from '@hnet/train';

type Outcome = { accept: true } | { error: string; message: string };
interface Case {
  file: string;
  what: string;
  expect: Record<string, Outcome>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.join(HERE, 'hostile');
const BIN = path.join(HERE, '../packages/cli/bin/hnet.js');
const MLP = path.join(HERE, '../fixtures/mlp.onnx');
const { cases } = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8')) as { cases: Case[] };
const RSS_GROWTH = 100 << 20;
/** Loaders of test/hostile.test.ts (the .hnet readers). */
const HNET_LOADERS = new Set(['format', 'wasm']);

const dir = mkdtempSync(path.join(tmpdir(), 'hnet-hostile-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Result of one loader on one file: null when accepted, else the error code and message. */
type Result = { code: string; message: string } | null;

function inProcess(run: () => void, code: (e: unknown) => string | null): Result {
  const before = process.memoryUsage().rss;
  let result: Result = null;
  try {
    run();
  } catch (e) {
    const c = code(e);
    if (c === null) throw e; // not the loader's typed error: a crash
    result = { code: c, message: (e as Error).message };
  }
  const growth = process.memoryUsage().rss - before;
  assert.ok(growth < RSS_GROWTH, `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
  return result;
}

function hnet(...args: string[]): { status: number; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, HNET_DEBUG: '' }, timeout: 60_000 });
  return { status: r.status ?? -1, stderr: r.stderr };
}

/** A CLI run: a refusal is short, has no stack trace, and writes nothing. */
function cli(args: string[], output: string | null): Result {
  const r = hnet(...args);
  if (r.status === 0) return null;
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length <= 2 || /nothing was written/.test(lines[0]), `too long:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'stack trace in the message');
  if (output) assert.equal(existsSync(output), false, `${output} was written`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'temporary file left');
  return { code: `exit ${r.status}`, message: r.stderr };
}

const replayers: Record<string, (file: string, id: string) => Result> = {
  import: (file) => inProcess(() => void importOnnx(file), (e) => (e instanceof ConvertError ? e.code : null)),
  data: (file) => inProcess(() => void loadData(file), (e) => (e instanceof TrainError ? e.code : null)),
  'hnet convert': (file, id) => {
    const out = path.join(dir, `${id}.hnet`);
    return cli(['convert', file, '-o', out], out);
  },
  'hnet eval': (file) => cli(['eval', MLP, '--data', file, '--engine', 'reference'], null),
  'hnet export-onnx': (file, id) => {
    const hnetFile = path.join(dir, `${id}.hnet`);
    const onnxFile = path.join(dir, `${id}.onnx`);
    const converted = cli(['convert', file, '-o', hnetFile], hnetFile);
    if (converted) return converted;
    const exported = cli(['export-onnx', hnetFile, '-o', onnxFile], onnxFile);
    if (exported) return exported;
    execFileSync('/usr/bin/python3', ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', onnxFile]);
    return null;
  },
};

test('every ONNX, IDX, NPY and CSV file of the corpus has a case', () => {
  const listed = new Set(cases.map((c) => c.file.split('/').slice(0, 2).join('/')));
  for (const folder of ['onnx', 'idx', 'npy', 'csv']) {
    for (const name of readdirSync(path.join(CORPUS, folder))) {
      // Data files next to a model or inside a case folder belong to that case.
      if (/\.(bin|data)$/.test(name)) continue;
      assert.ok(listed.has(`${folder}/${name}`), `${folder}/${name} is not in manifest.json`);
    }
  }
});

cases.forEach((c, index) => {
  for (const [loader, outcome] of Object.entries(c.expect)) {
    if (HNET_LOADERS.has(loader)) continue; // test/hostile.test.ts
    const label = 'accept' in outcome ? 'accepted' : `refused (${outcome.error}: "${outcome.message}")`;
    test(`${c.file}, ${loader}: ${label} — ${c.what}`, { timeout: 60_000 }, () => {
      const replay = replayers[loader];
      assert.ok(replay, `no replayer for loader "${loader}" in test/hostile-io.test.ts or test/hostile.test.ts`);
      const result = replay(path.join(CORPUS, c.file), `case${index}`);
      if ('accept' in outcome) {
        assert.equal(result, null, `refused: ${result?.message}`);
        return;
      }
      assert.ok(result, `accepted, expected a refusal with ${outcome.error}`);
      assert.equal(result.code, outcome.error, `wrong error: ${result.message}`);
      assert.ok(result.message.includes(outcome.message), `message "${result.message}" lacks "${outcome.message}"`);
    });
  }
});
