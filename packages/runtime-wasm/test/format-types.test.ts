// The runtime depends on no package of ours, so it restates the few types of
// @hnet/format its API uses; the TypeScript compiler checks that they agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const checked = fileURLToPath(new URL('format-types.ts', import.meta.url));

test("the runtime's Tensor and TensorInfo are the same as @hnet/format's", () => {
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--lib', 'ES2022,DOM', checked], { encoding: 'utf8' });
  assert.equal(result.status, 0, `tsc found a difference:\n${result.stdout}${result.stderr}`);
});
