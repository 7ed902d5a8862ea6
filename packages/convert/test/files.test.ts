// The atomic writer behind every -o: regular files only, modes kept, symlinks
// kept, and no temporary file left behind by SIGINT/SIGTERM.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { ConvertError, writeFileAtomic } from '../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'hnet-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const refusesWith = (kind: RegExp) => (e: unknown): boolean =>
  e instanceof ConvertError && e.code === 'file' && kind.test(e.message) && /regular files only/.test(e.message);

test('special files and folders are refused, never replaced', () => {
  assert.throws(() => writeFileAtomic('/dev/null', 'x'), refusesWith(/\/dev\/null: is a character device/));
  assert.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still the device');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => writeFileAtomic(fifo, 'x'), refusesWith(/is a FIFO/));
  assert.ok(lstatSync(fifo).isFIFO());
  const folder = path.join(dir, 'folder');
  mkdirSync(folder);
  assert.throws(() => writeFileAtomic(folder, 'x'), refusesWith(/is a folder/));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test("an existing file keeps its mode; a symlink keeps pointing at the file it names", () => {
  const secret = path.join(dir, 'secret.hnet');
  writeFileSync(secret, 'old');
  chmodSync(secret, 0o600);
  writeFileAtomic(secret, 'new');
  assert.equal(readFileSync(secret, 'utf8'), 'new');
  assert.equal(statSync(secret).mode & 0o777, 0o600);
  const link = path.join(dir, 'link.hnet');
  symlinkSync('secret.hnet', link);
  writeFileAtomic(link, 'via link');
  assert.equal(lstatSync(link).isSymbolicLink(), true);
  assert.equal(readlinkSync(link), 'secret.hnet');
  assert.equal(readFileSync(secret, 'utf8'), 'via link');
  assert.equal(statSync(secret).mode & 0o777, 0o600);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} while writing leaves no temporary file`, async () => {
    const out = path.join(dir, signal);
    mkdirSync(out);
    const files = fileURLToPath(new URL('../src/files.ts', import.meta.url));
    // Writes 16 MiB files back to back, so the signal lands during a write almost
    // every time; between writes the event loop turns, as in the CLI after a write.
    const script = `import { writeFileAtomic } from ${JSON.stringify(files)};
      const data = new Uint8Array(16 << 20);
      for (let i = 0; ; i++) { writeFileAtomic(${JSON.stringify(out)} + '/m' + (i % 4) + '.hnet', data); if (i === 2) console.log('writing'); await new Promise((r) => setImmediate(r)); }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill(signal);
    const [code, got] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.equal(got, signal, `the process ends by ${signal} (exit code ${code})`);
    assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tmp')), []);
    for (const f of readdirSync(out)) assert.equal(statSync(path.join(out, f)).size, 16 << 20, `${f} is whole`);
  });
}
