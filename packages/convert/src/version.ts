// This package's version, read from its package.json (never written twice):
// recorded in the files it writes (the converter key, the ONNX producer).

import { createRequire } from 'node:module';

export const CONVERT_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
