// The golden files of @hnet/format (packages/format/golden/README.md) through
// the runtime: every op and weight storage, both modes, release and debug
// builds, against the expected outputs committed beside them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readNpy } from '@hnet/format';
import { loadModel } from '../src/index.js';
import { assertClose, TOLERANCE, WASM_PATHS } from './helpers.js';

interface Manifest {
  tolerance: { runtime: number };
  cases: { name: string; file: string; inputs: Record<string, string>; outputs: Record<string, string> }[];
}

const dir = path.dirname(createRequire(import.meta.url).resolve('@hnet/format/golden/manifest.json'));
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(dir, name)));
const manifest = JSON.parse(new TextDecoder().decode(read('manifest.json'))) as Manifest;
const tensor = (file: string) => readNpy(read(file), file);

it("the manifest's runtime tolerance is the one these tests hold the runtime to", () => {
  assert.equal(manifest.tolerance.runtime, TOLERANCE);
});

for (const build of ['release', 'debug'] as const) describe(`golden files, ${build} build`, () => {
  for (const mode of ['materialized', 'streaming'] as const) {
    it(`${mode}: every case within ${TOLERANCE} relative`, async () => {
      for (const c of manifest.cases) {
        const m = await loadModel(read(c.file), { mode, wasm: WASM_PATHS[build] });
        const outputs = m.run(Object.fromEntries(Object.entries(c.inputs).map(([name, file]) => [name, tensor(file)])));
        for (const [name, file] of Object.entries(c.outputs)) assertClose(outputs[name], tensor(file), `${c.name} ${name}`);
        m.dispose();
      }
    });
  }
});
