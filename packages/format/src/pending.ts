// PENDING-1.1: a placeholder while format 1.1's ops land layer by layer
// (session of 2026-12-01). Every use is removed before the session ends.

import { HnetFormatError } from './errors.js';

export function pending11(where: string, what: string): never {
  throw new HnetFormatError('invalid-field', where, `${what} (format 1.1) is not implemented yet`);
}
