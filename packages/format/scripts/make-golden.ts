// Writes golden/ (golden/README.md) from scripts/golden.ts: the .hnet files,
// their input and expected output .npy files and manifest.json. Files that the
// generator no longer makes are removed, so the folder is exactly its output.
// Run: npx tsx scripts/make-golden.ts   (test/golden.test.ts fails until you do, after a change)
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { goldenFiles, isGoldenFile } from './golden.js';

const dir = new URL('../golden/', import.meta.url);
mkdirSync(dir, { recursive: true });
const files = goldenFiles();
for (const name of readdirSync(dir)) if (isGoldenFile(name) && !files.has(name)) rmSync(new URL(name, dir));
let bytes = 0;
for (const [name, data] of files) {
  writeFileSync(new URL(name, dir), data);
  bytes += data.length;
}
console.log(`golden/: ${files.size} files, ${bytes} bytes`);
