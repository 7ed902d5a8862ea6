// The wrapper in a real browser: chromium (Debian's, through playwright-core)
// loads dist/index.js as a plain ES module from a static server, no bundler,
// fetches build/hnet.wasm next to it, runs a model in both modes and returns
// the outputs, which must match runReference.

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { encode, runReference, sizeOf } from '@hnet/format';
import { assertClose } from './helpers.js';
import { randomArray, randomModel, rng } from './models.js';

const CHROMIUM = '/usr/bin/chromium';
const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

let server: Server;
let browser: Browser;
let base = '';
const model = randomModel(77);
const modelBytes = encode(model);

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium (apt-get install -y chromium)`);
  // Serves the package folder (dist/, build/) plus the model and an empty page.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/model.hnet') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(modelBytes);
    if (url.pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>hnet</title>');
    const file = path.join(PACKAGE, path.normalize(url.pathname));
    if (!file.startsWith(PACKAGE) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

it('runs in chromium from dist/index.js, no bundler, both modes', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base + '/');
  const batch = 3;
  const shape = [batch, ...model.inputs[0].shape.slice(1)];
  const input = randomArray(rng(3), sizeOf(shape));
  const results = await page.evaluate(async ({ shape, input }) => {
    // The page's own URL, which tsc cannot resolve: it gets the wrapper's types by name.
    const wrapper: string = '/dist/index.js';
    const { loadModel } = (await import(wrapper)) as typeof import('../src/index.js');
    const bytes = new Uint8Array(await (await fetch('/model.hnet')).arrayBuffer());
    const out: Record<string, { mode: string; outputs: Record<string, { shape: number[]; data: number[] }> }> = {};
    for (const mode of ['materialized', 'streaming'] as const) {
      const m = await loadModel(bytes, { mode });
      const y = m.run({ x: { shape, data: new Float32Array(input) } });
      out[mode] = { mode: m.info.mode, outputs: Object.fromEntries(Object.entries(y).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }])) };
      m.dispose();
    }
    return out;
  }, { shape, input: Array.from(input) });
  await page.close();
  assert.deepEqual(errors, []);
  const expected = runReference(model, { x: { shape, data: input } });
  for (const mode of ['materialized', 'streaming']) {
    assert.equal(results[mode].mode, mode);
    for (const t of model.outputs) {
      const got = results[mode].outputs[t.name];
      assertClose({ shape: got.shape, data: Float32Array.from(got.data) }, expected[t.name], `chromium, ${mode}`);
    }
  }
});
