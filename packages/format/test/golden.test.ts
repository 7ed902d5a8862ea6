// The committed golden files (golden/README.md): the generator still makes
// exactly them, they cover every op and weight storage, and the reference
// forward pass reproduces their expected outputs from the files alone
// (decode + readNpy), as a reader in another language would.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decode, OP_TYPES, readNpy, runReference } from '../src/index.js';
import { DTYPES, goldenFiles, isGoldenFile, LAYERS, STORAGES, type GoldenManifest } from '../scripts/golden.js';

const dir = new URL('../golden/', import.meta.url);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const manifest = JSON.parse(new TextDecoder().decode(read('manifest.json'))) as GoldenManifest;
const REGENERATE = 'npm run golden -w @hnet/format, then review the diff';

test('the generator makes exactly the committed files', () => {
  const made = goldenFiles();
  assert.deepEqual(readdirSync(dir).filter(isGoldenFile).sort(), [...made.keys()].sort(), `the folder's files are not the generator's: ${REGENERATE}`);
  for (const [name, bytes] of made) assert.ok(Buffer.from(bytes).equals(read(name)), `${name} is not what the generator makes: ${REGENERATE}`);
});

test('one case per op, and one per dtype and storage for the ops with weights', () => {
  assert.deepEqual([...new Set(manifest.cases.map((c) => c.op))].sort(), [...OP_TYPES].sort());
  for (const op of LAYERS) {
    const storages = manifest.cases.filter((c) => c.op === op).map((c) => `${c.weights?.dtype} ${c.weights?.storage}`);
    assert.deepEqual(storages.sort(), DTYPES.flatMap((d) => STORAGES.map((s) => `${d} ${s}`)).sort(), op);
  }
});

test('the reference forward pass reproduces every expected output, read from the files', () => {
  const tolerance = manifest.tolerance.reference;
  for (const c of manifest.cases) {
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([name, file]) => [name, readNpy(read(file), file)]));
    const outputs = runReference(decode(read(c.file)), feeds);
    for (const [name, file] of Object.entries(c.outputs)) {
      const expected = readNpy(read(file), file);
      const actual = outputs[name];
      assert.deepEqual(actual.shape, expected.shape, `${c.name} ${name}: shape`);
      actual.data.forEach((v, i) => {
        const e = expected.data[i];
        assert.ok(Math.abs(v - e) <= tolerance * Math.max(1, Math.abs(e)), `${c.name} ${name}[${i}]: ${v}, expected ${e}`);
      });
    }
  }
});
