// Files are written whole or not at all: data goes to a temporary file in the
// same folder, which is then renamed over the target (atomic on POSIX).
// The target must be a regular file (or not exist): renaming over /dev/null
// or a FIFO would replace the device node itself, so those are refused. An
// existing file keeps its permissions (a 0600 model stays private), and a
// symlink keeps pointing where it did: the file it names is replaced.

import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { ConvertError } from './errors.js';

/** Temporary files being written, removed if SIGINT or SIGTERM ends the process. */
const pending = new Set<string>();
let cleanupInstalled = false;

/**
 * Installed once, at the first write: removes the temporary files, then
 * re-raises the signal so the process ends as it would have (exit 130/143).
 * A signal that arrives during the (synchronous) write is handled right
 * after it, so the target is then either whole or untouched.
 */
function removeTemporaryFilesOnSignal(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      for (const tmp of pending) rmSync(tmp, { force: true });
      pending.clear();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  let target = file;
  let mode: number | null = null;
  let existing: Stats | null = null;
  try {
    existing = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConvertError('file', `${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (existing) {
    if (!existing.isFile()) {
      throw new ConvertError('file', `${file}: is ${fileKind(existing)}; hnet writes regular files only (give a file path, e.g. -o model.hnet)`);
    }
    target = realpathSync(file);
    mode = existing.mode & 0o7777;
  }
  const tmp = path.join(path.dirname(path.resolve(target)), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  removeTemporaryFilesOnSignal();
  pending.add(tmp);
  try {
    // 'wx': never write through something already at the temporary name.
    writeFileSync(tmp, data, { flag: 'wx', mode: mode ?? 0o666 });
    if (mode !== null) chmodSync(tmp, mode); // the umask applied to the open
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ConvertError('file', `${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    pending.delete(tmp);
  }
}

export function readFileChecked(file: string, what = 'file'): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint = code === 'ENOENT' ? 'no such file' : code ?? String(e);
    throw new ConvertError('file', `${file}: cannot read the ${what} (${hint})`);
  }
}
