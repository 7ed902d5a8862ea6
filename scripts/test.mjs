#!/usr/bin/env node
// `npm test`: type-checks every package (src, tests, scripts, bench) and lints
// the repository, then runs every package's tests through turbo (builds first,
// as the task graph says), adds up the JUnit reports each package's run left in
// test-results/ (turbo restores them for cached runs) and prints one closing
// line: "tests: N passed, N failed, N skipped". A type or lint error fails the
// run like a failed test, with its own line in the summary.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// A workspace without tests (fixtures/ holds data only) leaves no report.
const tested = workspaces.filter((w) => JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')).scripts?.test);
const reportOf = (workspace) => join(root, workspace, 'test-results', 'junit.xml');
// Reports of an earlier run go first, so that a report found afterwards is this run's: written by
// the tests, or restored by turbo for a cached task (whose file keeps its old date when turbo finds
// it already in place, which is why the date cannot tell).
for (const workspace of tested) rmSync(reportOf(workspace), { force: true });
const run = (command, args) =>
  spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } }).status;
const typecheck = run('npx', ['turbo', 'run', 'typecheck', '--continue', '--output-logs=errors-only', ...process.argv.slice(2)]);
const lint = run('npm', ['run', '--silent', 'lint']);
const turbo = run('npx', ['turbo', 'run', 'test', '--continue', ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
console.log('\nhnet test summary');
console.log(`  typecheck                ${typecheck === 0 ? 'ok' : 'FAILED: tsc errors above (npm run typecheck)'}`);
console.log(`  lint                     ${lint === 0 ? 'ok' : 'FAILED: eslint problems above (npm run lint)'}`);
for (const workspace of tested) {
  const report = reportOf(workspace);
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
if (missing.length) console.log(`  no test report from this run: ${missing.join(', ')} (build or test run failed; see above)`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 || turbo !== 0 || typecheck !== 0 || lint !== 0 ? 1 : 0);
