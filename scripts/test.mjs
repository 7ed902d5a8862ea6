#!/usr/bin/env node
// `npm test`: runs every package's tests through turbo (builds first, as the
// task graph says), then adds up the JUnit reports each package's run left in
// test-results/ (turbo restores them for cached runs) and prints one closing
// line: "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const started = Date.now();
const turbo = spawnSync('npx', ['turbo', 'run', 'test', '--continue', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env },
});

const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
console.log('\nhnet test summary');
for (const workspace of workspaces) {
  // A workspace without tests (fixtures/ holds data only) leaves no report.
  if (!JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8')).scripts?.test) continue;
  const report = join(root, workspace, 'test-results', 'junit.xml');
  // A report older than this run is left over from an earlier one: its tests did not run now.
  if (!existsSync(report) || statSync(report).mtimeMs < started - 1000) {
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
if (missing.length) console.log(`  no test report from this run: ${missing.join(', ')} (build or test run failed; see above)`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 || turbo.status !== 0 ? 1 : 0);
