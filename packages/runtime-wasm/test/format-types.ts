// Compiled (not run) by format-types.test.ts: the types the runtime restates
// must be the same as @hnet/format's, or this file does not type-check.

import type * as format from '@hnet/format';
import type * as runtime from '../src/index.js';

/** true when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const agree: [Same<runtime.Tensor, format.Tensor>, Same<runtime.TensorInfo, format.TensorInfo>] = [true, true];
