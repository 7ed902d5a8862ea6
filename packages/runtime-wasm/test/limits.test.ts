// The runtime's caps are the format library's: one rule for every reader
// (docs/FORMAT.md, "Reader rules"). AssemblyScript cannot import TypeScript,
// so the numbers are written twice and compared here.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DIMENSION, MAX_ELEMENTS, MAX_GEOMETRY, MAX_RANK, MAX_WORK } from '@hnet/format';
import { rawInstance } from './helpers.js';

it('hnet_limit returns the caps of @hnet/format/limits, in both builds', async () => {
  for (const build of ['release', 'debug'] as const) {
    const x = await rawInstance(build);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => x.hnet_limit(i)),
      [MAX_ELEMENTS, MAX_RANK, MAX_WORK, MAX_GEOMETRY, MAX_DIMENSION],
      build,
    );
    assert.equal(x.hnet_limit(5), -1);
  }
});
