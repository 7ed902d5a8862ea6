#!/usr/bin/env node
// Sets one version for every package: the root package.json, each workspace,
// and the ^ranges by which our packages depend on one another
// (test/pack.test.ts checks they agree). Usage: node scripts/set-version.mjs 0.2.0
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const version = process.argv[2];
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? '')) {
  console.error(`usage: node scripts/set-version.mjs X.Y.Z (got ${version ?? 'nothing'})`);
  process.exit(3);
}
const root = new URL('..', import.meta.url).pathname;
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const dir of ['.', ...rootManifest.workspaces]) {
  const file = join(root, dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.version = version;
  for (const deps of [manifest.dependencies, manifest.devDependencies]) {
    for (const name of Object.keys(deps ?? {})) if (name.startsWith('@hnet/')) deps[name] = `^${version}`;
  }
  writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
}
console.log(`every package is now ${version}; run npm install to update package-lock.json`);
