#!/usr/bin/env node
// The `hnet` command. The code lives in dist/cli/main.js (npm run build).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
