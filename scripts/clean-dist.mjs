// Empties a package's dist/ before tsc writes it: tsc never deletes the output
// of a source file that is gone, and turbo caches whatever dist/ holds, so a
// stale file (dist/onnx/import.js after import.ts became a folder) would be
// packed and restored from the cache ever after.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
