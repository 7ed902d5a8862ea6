// Replays the hostile-input corpus (test/hostile/, format in its README):
// every case through every loader it names, each with the promised outcome,
// within 100 MiB of RSS growth. The timeout only catches a hang; speed is
// measured by bench/.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConvertError, importOnnx } from '@hnet/convert';
import { decode, HnetFormatError, runReference, weightsOf, type Model, type Tensor } from '@hnet/format';
import { HnetRuntimeError, loadModel } from '@hnet/runtime-wasm';
import { loadData, TrainError } from '@hnet/train';

type Outcome = { accept: true } | { error: string; message: string };
interface Case {
  file: string;
  what: string;
  expect: Record<string, Outcome>;
}

const corpus = new URL('./hostile/', import.meta.url);
const { cases } = JSON.parse(readFileSync(new URL('manifest.json', corpus), 'utf8')) as { cases: Case[] };
const RSS_GROWTH = 100 << 20;
const BIN = fileURLToPath(new URL('../packages/cli/bin/hnet.js', import.meta.url));
/** The model `hnet eval` cases are scored with: input [N, 1, 14, 14], 10 classes. */
const MLP = fileURLToPath(new URL('../fixtures/mlp.onnx', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'hnet-hostile-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Zeros for every input at batch 1. */
function zeros(inputs: { name: string; shape: number[] }[]): Record<string, Tensor> {
  return Object.fromEntries(inputs.map((t) => {
    const shape = t.shape.map((d) => (d === -1 ? 1 : d));
    return [t.name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }];
  }));
}

/** A loader: reads (and where that applies, runs) the file; throws its typed error on refusal. */
interface Replayer {
  run(file: string): Promise<void>;
  /** The code of the loader's typed error, or null for an error that is not one (a crash). */
  code(e: unknown): string | null;
}

/** A CLI run that exited non-zero: code "exit N", message = stderr. */
class CliRefusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/**
 * Runs `hnet ARGS`. A refusal must be one or two lines (or the importer's
 * one line per node) without a stack trace, and leave neither `output` nor a
 * temporary file behind; it is thrown as a CliRefusal.
 */
function hnet(args: string[], output: string | null): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: scratch, encoding: 'utf8', env: { ...process.env, HNET_DEBUG: '' } });
  if (r.status === 0) return;
  const lines = r.stderr.trimEnd().split('\n');
  assert.ok(lines.length <= 2 || /nothing was written/.test(lines[0]), `too long:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'stack trace in the message');
  if (output) assert.equal(existsSync(output), false, `${output} was written`);
  assert.deepEqual(readdirSync(scratch).filter((f) => f.endsWith('.tmp')), [], 'temporary file left');
  throw new CliRefusal(`exit ${r.status ?? r.signal}`, r.stderr);
}

let outputs = 0;
const scratchFile = (ext: string): string => path.join(scratch, `out${++outputs}${ext}`);
const cliCode = (e: unknown): string | null => (e instanceof CliRefusal ? e.code : null);

const replayers: Record<string, Replayer> = {
  format: {
    async run(file) {
      const bytes = readFileSync(file);
      const model: Model = decode(bytes);
      // Decoded weights never take more than the file: shared tables stay shared.
      const arrays = new Set(model.nodes.flatMap((n) => {
        const w = weightsOf(n.op);
        return w ? [w.weight.values.data, ...(w.bias ? [w.bias.values.data] : [])] : [];
      }));
      const decodedBytes = [...arrays].reduce((sum, a) => sum + a.byteLength, 0);
      assert.ok(decodedBytes <= bytes.length, `weights decode to ${decodedBytes} bytes from a ${bytes.length}-byte file`);
      runReference(model, zeros(model.inputs));
    },
    code: (e) => (e instanceof HnetFormatError ? e.code : null),
  },
  wasm: {
    async run(file) {
      const model = await loadModel(readFileSync(file));
      try {
        model.run(zeros(model.info.inputs));
      } finally {
        model.dispose();
      }
    },
    code: (e) => (e instanceof HnetRuntimeError ? e.codeName : null),
  },
  import: {
    async run(file) {
      importOnnx(file);
    },
    code: (e) => (e instanceof ConvertError ? e.code : null),
  },
  data: {
    async run(file) {
      loadData(file);
    },
    code: (e) => (e instanceof TrainError ? e.code : null),
  },
  'hnet convert': {
    async run(file) {
      const out = scratchFile('.hnet');
      hnet(['convert', file, '-o', out], out);
    },
    code: cliCode,
  },
  'hnet eval': {
    async run(file) {
      hnet(['eval', MLP, '--data', file, '--engine', 'reference'], null);
    },
    code: cliCode,
  },
  'hnet export-onnx': {
    async run(file) {
      const model = scratchFile('.hnet');
      const exported = scratchFile('.onnx');
      hnet(['convert', file, '-o', model], model);
      hnet(['export-onnx', model, '-o', exported], exported);
      // What onnxruntime and every ONNX tool will check.
      execFileSync('/usr/bin/python3', ['-c', 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', exported]);
    },
    code: cliCode,
  },
};

test('the manifest lists every file of the corpus, each with at least one loader', () => {
  assert.ok(cases.length > 0);
  const listed = new Set(cases.map((c) => c.file.split('/').slice(0, 2).join('/')));
  for (const folder of readdirSync(corpus, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const name of readdirSync(new URL(`${folder.name}/`, corpus))) {
      // External data next to a model belongs to the model's case.
      if (/\.(bin|data)$/.test(name)) continue;
      assert.ok(listed.has(`${folder.name}/${name}`), `${folder.name}/${name} is not in manifest.json`);
    }
  }
  for (const c of cases) {
    assert.ok(c.what, `${c.file}: what is it?`);
    assert.ok(Object.keys(c.expect).length > 0, `${c.file}: no loader to try`);
    // One reader rule (docs/FORMAT.md, "Reader rules"): both .hnet readers accept or both refuse.
    if (c.file.endsWith('.hnet')) {
      assert.ok(c.expect.format && c.expect.wasm, `${c.file}: an .hnet case names both readers`);
      assert.equal('accept' in c.expect.format, 'accept' in c.expect.wasm, `${c.file}: the readers must agree`);
    }
  }
});

for (const c of cases) {
  for (const [loader, outcome] of Object.entries(c.expect)) {
    const label = 'accept' in outcome ? 'accepted' : `refused (${outcome.error}: "${outcome.message}")`;
    // CLI loaders start one to three processes on a shared machine: a generous hang guard.
    test(`${c.file}, ${loader}: ${label} — ${c.what}`, { timeout: 60_000 }, async () => {
      const replayer = replayers[loader];
      assert.ok(replayer, `no replayer for loader "${loader}" in test/hostile.test.ts`);
      const before = process.memoryUsage().rss;
      let thrown: unknown = null;
      try {
        await replayer.run(fileURLToPath(new URL(c.file, corpus)));
      } catch (e) {
        thrown = e;
      }
      const growth = process.memoryUsage().rss - before;
      assert.ok(growth < RSS_GROWTH, `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`);
      if ('accept' in outcome) {
        if (thrown) throw thrown;
        return;
      }
      assert.ok(thrown, `accepted, expected a refusal with ${outcome.error}`);
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      assert.equal(replayer.code(thrown), outcome.error, `wrong error: ${message}`);
      assert.ok(message.includes(outcome.message), `message "${message}" lacks "${outcome.message}"`);
    });
  }
}
