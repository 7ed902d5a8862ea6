#!/usr/bin/env node
// The `hnet` command. The code lives in dist/main.js (npm run build).
import { main } from '../dist/main.js';

// `hnet inspect m.hnet | head`: a reader that has seen enough closes the pipe;
// that ends the output, it is not an internal error with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
