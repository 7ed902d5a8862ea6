// Replays the hostile-input corpus (test/hostile/, format in its README):
// every case through every loader it names, each with the promised outcome,
// within 100 MiB of RSS growth. The timeout only catches a hang; speed is
// measured by bench/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decode, HnetFormatError, runReference, weightsOf, type Model, type Tensor } from '@hnet/format';
import { HnetRuntimeError, loadModel } from '@hnet/runtime-wasm';

type Outcome = { accept: true } | { error: string; message: string };
interface Case {
  file: string;
  what: string;
  expect: Record<string, Outcome>;
}

const corpus = new URL('./hostile/', import.meta.url);
const { cases } = JSON.parse(readFileSync(new URL('manifest.json', corpus), 'utf8')) as { cases: Case[] };
const RSS_GROWTH = 100 << 20;

/** Zeros for every input at batch 1. */
function zeros(inputs: { name: string; shape: number[] }[]): Record<string, Tensor> {
  return Object.fromEntries(inputs.map((t) => {
    const shape = t.shape.map((d) => (d === -1 ? 1 : d));
    return [t.name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }];
  }));
}

/** A loader: reads (and where that applies, runs) the bytes; throws its typed error on refusal. */
interface Replayer {
  run(bytes: Uint8Array): Promise<void>;
  /** The code of the loader's typed error, or null for an error that is not one (a crash). */
  code(e: unknown): string | null;
}

const replayers: Record<string, Replayer> = {
  format: {
    async run(bytes) {
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
    async run(bytes) {
      const model = await loadModel(bytes);
      try {
        model.run(zeros(model.info.inputs));
      } finally {
        model.dispose();
      }
    },
    code: (e) => (e instanceof HnetRuntimeError ? e.codeName : null),
  },
};

test('the manifest lists every file of the corpus, each with at least one loader', () => {
  assert.ok(cases.length > 0);
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
    test(`${c.file}, ${loader}: ${label} — ${c.what}`, { timeout: 10_000 }, async () => {
      const replayer = replayers[loader];
      assert.ok(replayer, `no replayer for loader "${loader}" in test/hostile.test.ts`);
      const bytes = new Uint8Array(readFileSync(new URL(c.file, corpus)));
      const before = process.memoryUsage().rss;
      let thrown: unknown = null;
      try {
        await replayer.run(bytes);
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
