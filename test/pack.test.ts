// hnet outside this repository: every publishable package is packed with
// `npm pack` and installed from its tarball into an empty folder in the system
// temp directory, as a user's project would install it from the registry.
// There the `hnet` command converts, runs and inspects a model; the runtime,
// installed alone into another folder, runs it from Node; and its unpacked
// tarball, served as static files, runs it in headless Chromium with no bundler.
// Offline: third-party packages come from the npm cache that `npm ci` filled.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { decode, readNpy, runReference, type Tensor } from '@hnet/format';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const FIXTURE = 'lenet'; // convolutions and dense layers, 242 KiB: quick to hash
const PUBLISHED = ['@hnet/format', '@hnet/convert', '@hnet/train', '@hnet/runtime-wasm', '@hnet/cli'];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: Record<string, string>;
}
/** What `npm pack --json` reports for one tarball. */
interface Packed {
  name: string;
  version: string;
  filename: string;
  integrity: string;
  size: number;
  files: { path: string }[];
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const rootManifest = readJson<Manifest & { workspaces: string[] }>(path.join(ROOT, 'package.json'));
/** Every workspace by package name: its folder and package.json. */
const workspaces = new Map(
  rootManifest.workspaces.map((dir) => {
    const manifest = readJson<Manifest>(path.join(ROOT, dir, 'package.json'));
    return [manifest.name, { dir, manifest }] as const;
  }),
);

let temp = '';
let packs: Packed[] = [];
const tarball = (name: string): string => path.join(temp, 'packs', packs.find((p) => p.name === name)!.filename);

/** Runs a command, returning stdout; a failure shows the command's own stderr. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: error });
  }
}

/**
 * Writes a package.json and package-lock.json in `dir` that install the given
 * tarballs. `npm ci` caches the tarballs of third-party packages but not
 * their registry metadata, so `npm install --offline` can resolve a range like
 * `^4.22.0` only through a lockfile: this one pins every third-party package
 * to the entry (version, integrity) of the repository's own lockfile, which
 * npm then takes from its cache. Entries our packages do not need are pruned
 * by npm.
 */
function writeInstallProject(dir: string, names: string[]): void {
  const lock = readJson<{ packages: Record<string, Record<string, unknown>> }>(path.join(ROOT, 'package-lock.json'));
  const packed = new Map(names.map((name) => [workspaces.get(name)!.dir, name]));
  const packages: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.link) continue;
    if (key.startsWith('node_modules/')) {
      if (!key.startsWith('node_modules/@hnet/')) packages[key] = entry;
      continue;
    }
    // A dependency nested in a workspace folder (a version conflict) nests under the installed package.
    const nested = /^(.+?)\/node_modules\/(.+)$/.exec(key);
    if (nested && packed.has(nested[1])) packages[`node_modules/${packed.get(nested[1])}/node_modules/${nested[2]}`] = entry;
  }
  const dependencies: Record<string, string> = {};
  for (const name of names) {
    const spec = `file:${tarball(name)}`;
    dependencies[name] = spec;
    const { version, license, dependencies: deps, bin, engines } = workspaces.get(name)!.manifest;
    const integrity = packs.find((p) => p.name === name)!.integrity;
    packages[`node_modules/${name}`] = { version, resolved: spec, integrity, license, dependencies: deps, bin, engines };
  }
  const project = 'hnet-install-test';
  packages[''] = { name: project, dependencies };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: project, private: true, dependencies }, null, 2));
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: project, lockfileVersion: 3, requires: true, packages }, null, 2));
}

/**
 * `npm install --offline` from the tarballs. --ignore-scripts: our packages
 * have no install scripts, and the third-party ones (protobufjs's version
 * check, core-js's banner, onnxruntime-node's optional CUDA download) are not
 * needed to run on the CPU.
 */
function npmInstall(dir: string, names: string[]): void {
  writeInstallProject(dir, names);
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...names.map(tarball)], dir);
}

before(() => {
  temp = mkdtempSync(path.join(tmpdir(), 'hnet-pack-'));
  mkdirSync(path.join(temp, 'packs'));
  const workspaceFlags = PUBLISHED.flatMap((name) => ['--workspace', workspaces.get(name)!.dir]);
  packs = JSON.parse(run('npm', ['pack', ...workspaceFlags, '--pack-destination', path.join(temp, 'packs'), '--json'], ROOT)) as Packed[];
  for (const p of packs) console.log(`# ${p.filename}: ${(p.size / 1024).toFixed(1)} KiB, ${p.files.length} files`);
});

after(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

test('exactly the five library and CLI packages are publishable, each under the Apache-2.0 LICENSE of the root', () => {
  const publishable = [...workspaces.values()].filter((w) => !w.manifest.private).map((w) => w.manifest.name);
  assert.deepEqual(publishable.sort(), [...PUBLISHED].sort());
  const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  for (const name of PUBLISHED) {
    const { dir, manifest } = workspaces.get(name)!;
    assert.equal(manifest.license, 'Apache-2.0', `${dir}/package.json license`);
    assert.equal(readFileSync(path.join(ROOT, dir, 'LICENSE'), 'utf8'), license, `${dir}/LICENSE is a copy of the root LICENSE`);
    assert.ok(existsSync(path.join(ROOT, dir, 'README.md')), `${dir}/README.md`);
  }
});

test("one version for every package: the root's, and dependencies between our packages are ^version", () => {
  const version = rootManifest.version;
  assert.match(version, /^\d+\.\d+\.\d+$/, 'package.json version');
  for (const { dir, manifest } of workspaces.values()) {
    assert.equal(manifest.version, version, `${dir}/package.json version (node scripts/set-version.mjs sets them all)`);
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      if (name.startsWith('@hnet/')) assert.equal(range, `^${version}`, `${dir}/package.json: the range of ${name} (node scripts/set-version.mjs sets them all)`);
    }
  }
});

test('@hnet/runtime-wasm depends on nothing at run time', () => {
  assert.deepEqual(workspaces.get('@hnet/runtime-wasm')!.manifest.dependencies ?? {}, {});
});

test('each tarball holds its build, LICENSE, README and package.json, every entry point, and nothing else', () => {
  assert.deepEqual(packs.map((p) => p.name).sort(), [...PUBLISHED].sort());
  for (const p of packs) {
    const files = new Set(p.files.map((f) => f.path));
    const { manifest } = workspaces.get(p.name)!;
    for (const required of ['LICENSE', 'README.md', 'package.json']) assert.ok(files.has(required), `${p.filename} has ${required}`);
    // The sources are there only for the source maps: dist/ and src/ correspond file by file.
    const allowed = /^(LICENSE|README\.md|package\.json|bin\/[^/]+\.js|dist\/.+\.(js|js\.map|d\.ts)|src\/.+\.ts|build\/hnet\.wasm|vectors\/[^/]+\.json|golden\/[^/]+\.(hnet|npy|json|md)|dist\/models\/[^/]+\.onnx)$/;
    for (const file of files) {
      assert.match(file, allowed, `${p.filename} should not hold ${file}`);
      const js = /^dist\/(.+)\.js$/.exec(file);
      if (js) assert.ok(files.has(`src/${js[1]}.ts`), `${p.filename}: ${file} has no src/${js[1]}.ts (left over from an old build? rm -rf dist and rebuild)`);
    }
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {})];
    for (const entry of Object.values(manifest.exports ?? {})) targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
    for (const target of targets.filter((t) => t !== undefined)) {
      const wanted = path.posix.normalize(target!);
      // A subpath pattern ("./golden/*") names a folder: some file must match it.
      const present = wanted.includes('*') ? [...files].some((f) => f.startsWith(wanted.slice(0, wanted.indexOf('*')))) : files.has(wanted);
      assert.ok(present, `${p.filename} lacks ${target}, named in its package.json`);
    }
  }
  const files = (name: string) => packs.find((p) => p.name === name)!.files.map((f) => f.path);
  assert.ok(files('@hnet/runtime-wasm').includes('build/hnet.wasm'));
  assert.ok(files('@hnet/cli').includes('dist/models/mnist_mlp.onnx'), "the demo's dense model ships with the CLI");
});

/** The reference forward pass of @hnet/format on the .hnet, for the installed copies to match. */
function expectedOutput(hnetFile: string, input: Tensor): Tensor {
  const model = decode(readFileSync(hnetFile));
  return Object.values(runReference(model, { [model.inputs[0].name]: input }))[0];
}

function assertClose(actual: { shape: number[]; data: ArrayLike<number> }, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  for (let i = 0; i < expected.data.length; i++) {
    assert.ok(Math.abs(actual.data[i] - expected.data[i]) <= 1e-4 + 1e-4 * Math.abs(expected.data[i]), `${what}: value ${i} is ${actual.data[i]}, expected ${expected.data[i]}`);
  }
}

/** Runs the ```js example of an installed package's README in `app`; it prints to stdout. */
function runReadmeExample(app: string, name: string): string {
  const readme = readFileSync(path.join(app, 'node_modules', name, 'README.md'), 'utf8');
  const example = /```js\n([\s\S]+?)```/.exec(readme);
  assert.ok(example, `the README of ${name} has a js example`);
  const file = path.join(app, `example-${name.replace('@hnet/', '')}.mjs`);
  writeFileSync(file, example[1]);
  return run(process.execPath, [file], app);
}

let hnetFile = '';
let input: Tensor;

test('installed from the tarballs, `npx hnet` converts, runs and inspects a model', { timeout: 120_000 }, () => {
  const app = path.join(temp, 'app');
  mkdirSync(app);
  npmInstall(app, PUBLISHED);
  copyFileSync(path.join(ROOT, 'fixtures', `${FIXTURE}.onnx`), path.join(app, `${FIXTURE}.onnx`));
  copyFileSync(path.join(ROOT, 'fixtures', `${FIXTURE}.input.npy`), path.join(app, 'x.npy'));
  const hnet = (...args: string[]) => run('npx', ['--no', 'hnet', ...args], app);

  assert.match(hnet('convert', `${FIXTURE}.onnx`, '-o', 'm.hnet', '--compression', '1/8'), /wrote m\.hnet/);
  hnet('run', 'm.hnet', '--input', 'x.npy', '--output', 'y.npy');
  hnetFile = path.join(app, 'm.hnet');
  input = readNpy(readFileSync(path.join(app, 'x.npy')), 'x.npy');
  assertClose(readNpy(readFileSync(path.join(app, 'y.npy')), 'y.npy'), expectedOutput(hnetFile, input), 'hnet run');
  assert.match(hnet('inspect', 'm.hnet'), /^m\.hnet: \.hnet format/);
  // The demo's model is found inside the installed CLI, not in this repository.
  const demoModel = path.join(app, 'node_modules', '@hnet', 'cli', 'dist', 'models', 'mnist_mlp.onnx');
  assert.ok(existsSync(demoModel));

  // The READMEs' examples read model.onnx and mnist.hnet.
  copyFileSync(path.join(app, `${FIXTURE}.onnx`), path.join(app, 'model.onnx'));
  hnet('convert', demoModel, '-o', 'mnist.hnet', '--compression', '1/8');
  assert.match(runReadmeExample(app, '@hnet/format'), /^203530 \d+\n/);
  assert.match(runReadmeExample(app, '@hnet/convert'), /^\d+ stored values for 61706 weights\n$/);
  const nodes = (file: string) => decode(readFileSync(path.join(app, file))).nodes.map((n) => n.op.type);
  assert.deepEqual(nodes('model.hnet'), nodes('m.hnet'), "the convert README's model.hnet has the graph `hnet convert` made");
  assert.ok(existsSync(path.join(app, 'dense.onnx')));
});

test('@hnet/runtime-wasm installed alone runs the model from Node', { timeout: 60_000 }, () => {
  assert.ok(hnetFile, 'the CLI test made the model');
  const app = path.join(temp, 'runtime-only');
  mkdirSync(app);
  npmInstall(app, ['@hnet/runtime-wasm']);
  assert.deepEqual(readdirSync(path.join(app, 'node_modules')).filter((f) => !f.startsWith('.')), ['@hnet']);
  assert.deepEqual(readdirSync(path.join(app, 'node_modules', '@hnet')), ['runtime-wasm']);
  copyFileSync(hnetFile, path.join(app, 'm.hnet'));
  writeFileSync(path.join(app, 'x.f32'), new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength));
  writeFileSync(
    path.join(app, 'main.mjs'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { loadModel } from '@hnet/runtime-wasm';",
      "const model = await loadModel(readFileSync('m.hnet'));",
      `const data = new Float32Array(new Uint8Array(readFileSync('x.f32')).buffer);`,
      `const outputs = model.run({ [model.info.inputs[0].name]: { shape: ${JSON.stringify(input.shape)}, data } });`,
      'const [y] = Object.values(outputs);',
      'model.dispose();',
      'console.log(JSON.stringify({ shape: y.shape, data: [...y.data] }));',
    ].join('\n'),
  );
  assertClose(JSON.parse(run(process.execPath, ['main.mjs'], app)), expectedOutput(hnetFile, input), 'runtime in Node');
  copyFileSync(path.join(temp, 'app', 'mnist.hnet'), path.join(app, 'mnist.hnet'));
  assert.match(runReadmeExample(app, '@hnet/runtime-wasm'), /materialized\n\[ 1, 10 \] Float32Array\(10\)/);

  // A TypeScript app type-checks against the package's declarations alone (no @hnet/format to resolve).
  writeFileSync(
    path.join(app, 'typed.mts'),
    [
      "import { loadModel, type HnetModel, type Tensor, type TensorInfo } from '@hnet/runtime-wasm';",
      "const model: HnetModel = await loadModel(new Uint8Array(0), { mode: 'streaming', memoryBudget: 1 << 20 });",
      'const inputs: TensorInfo[] = model.info.inputs;',
      'export const outputs: Record<string, Tensor> = model.run({ [inputs[0].name]: { shape: [1], data: new Float32Array(1) } });',
    ].join('\n'),
  );
  const compilerOptions = { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [] };
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['typed.mts'] }));
  run(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
});

test("the runtime's unpacked tarball, served as static files, runs the model in Chromium without a bundler", { timeout: 60_000 }, async () => {
  assert.ok(hnetFile, 'the CLI test made the model');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium (apt-get install -y chromium)`);
  const site = path.join(temp, 'site');
  mkdirSync(site);
  run('tar', ['-xzf', tarball('@hnet/runtime-wasm'), '-C', site], site); // into site/package/
  const entry = workspaces.get('@hnet/runtime-wasm')!.manifest.exports!['.'] as Record<string, string>;
  // An import map lets the page import the bare name, as a bundled app would.
  const page = `<!doctype html><title>hnet</title>
<script type="importmap">{ "imports": { "@hnet/runtime-wasm": "/package/${path.posix.normalize(entry.default)}" } }</script>
<script type="module">
import { loadModel } from '@hnet/runtime-wasm';
try {
  const bytes = new Uint8Array(await (await fetch('/m.hnet')).arrayBuffer());
  const data = new Float32Array(await (await fetch('/x.f32')).arrayBuffer());
  const model = await loadModel(bytes);
  const [y] = Object.values(model.run({ [model.info.inputs[0].name]: { shape: ${JSON.stringify(input.shape)}, data } }));
  model.dispose();
  window.result = { shape: y.shape, data: [...y.data] };
} catch (error) {
  window.result = { error: String(error) };
}
</script>`;
  writeFileSync(path.join(site, 'index.html'), page);
  copyFileSync(hnetFile, path.join(site, 'm.hnet'));
  writeFileSync(path.join(site, 'x.f32'), new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength));

  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server: Server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = path.join(site, path.normalize(pathname === '/' ? '/index.html' : pathname));
    if (!file.startsWith(site + path.sep) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await tab.waitForFunction(() => 'result' in window, undefined, { timeout: 20_000 });
    const result = (await tab.evaluate(() => (window as unknown as { result: unknown }).result)) as { shape: number[]; data: number[]; error?: string };
    assert.equal(result.error, undefined, `the page failed: ${result.error}`);
    assert.deepEqual(errors, []);
    assertClose(result, expectedOutput(hnetFile, input), 'runtime in Chromium');
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
