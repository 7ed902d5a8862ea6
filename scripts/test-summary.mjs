#!/usr/bin/env node
// Adds up the JUnit reports that every package's test run left in
// test-results/ (restored by turbo when a run is cached) and prints one
// closing line: "tests: N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const workspace of workspaces) {
  const report = join(root, workspace, 'test-results', 'junit.xml');
  if (!existsSync(report)) {
    missing.push(workspace);
    continue;
  }
  const xml = readFileSync(report, 'utf8');
  // One <testcase> per test; a failed one holds <failure>, a skipped one <skipped>.
  const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
  let p = 0, f = 0, s = 0;
  for (const c of cases) {
    if (/<failure\b/.test(c)) f++;
    else if (/<skipped\b/.test(c)) s++;
    else p++;
  }
  console.log(`  ${workspace.padEnd(24)} ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
  skipped += s;
}
if (missing.length) {
  console.log(`  no test report from: ${missing.join(', ')}`);
  failed += missing.length;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
