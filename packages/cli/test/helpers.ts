// What the CLI tests share: the `hnet` command run as a user runs it, in a folder of the test's.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/hnet.js');

export interface CliResult { code: number; stdout: string; stderr: string }

/** `hnet ...args` in `cwd`, without HNET_DEBUG (so errors print as a user sees them). */
export function runHnet(cwd: string, ...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, HNET_DEBUG: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
