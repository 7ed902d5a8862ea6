#!/usr/bin/env node
// Runs a package's tests with node's test runner: the spec report on stdout,
// and a JUnit file in test-results/ that scripts/test.mjs adds up.
// Usage (from a package folder): node ../../scripts/run-tests.mjs test/*.test.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';

const files = process.argv.slice(2).filter((f) => existsSync(f));
if (files.length === 0) {
  console.error(`run-tests: no test files found in ${process.cwd()} (given: ${process.argv.slice(2).join(' ') || 'nothing'})`);
  process.exit(1);
}
mkdirSync('test-results', { recursive: true });
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=junit', '--test-reporter-destination=test-results/junit.xml', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
