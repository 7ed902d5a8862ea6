// The static server: what it serves, with which MIME type, what it refuses, and how it stops.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MIME_TYPES, missingPieces, resolveRequest, startServer } from '../server.mjs';

let server: { url: string; port: number; close(): Promise<void> };

before(async () => {
  server = await startServer({ port: 0 });
});
after(() => server.close());

/** A raw request: the path is sent as written (fetch would normalise "..", hiding traversal attempts). */
function request(path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves the page, its modules, the runtime .wasm and the default model with the right types', async () => {
  const page = await request('/');
  assert.equal(page.status, 200);
  assert.equal(page.type, 'text/html; charset=utf-8');
  assert.match(page.body.toString(), /<script type="importmap">/);
  const cases: [string, string][] = [
    ['/src/app.js', 'text/javascript; charset=utf-8'],
    ['/src/style.css', 'text/css; charset=utf-8'],
    ['/lib/runtime-wasm/build/hnet.wasm', 'application/wasm'],
    ['/models/default.hnet', 'application/octet-stream'],
    ['/models/dense.hnet', 'application/octet-stream'],
    ['/data/digits.bin.gz', 'application/gzip'],
    ['/lib/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs', 'text/javascript; charset=utf-8'],
    ['/lib/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm', 'application/wasm'],
  ];
  for (const [path, type] of cases) {
    const res = await request(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.type, type, path);
  }
  const model = await request('/models/default.hnet');
  assert.deepEqual(model.body, readFileSync(new URL('../models/default.hnet', import.meta.url)));
  const wasm = await request('/lib/runtime-wasm/build/hnet.wasm');
  assert.ok(WebAssembly.validate(new Uint8Array(wasm.body)), 'a valid WebAssembly module');
});

test('every bare specifier of the import map resolves to a served module', async () => {
  const html = readFileSync(new URL('../index.html', import.meta.url), 'utf8');
  const map = JSON.parse(html.match(/<script type="importmap">([\s\S]*?)<\/script>/)![1]) as { imports: Record<string, string> };
  assert.deepEqual(Object.keys(map.imports).sort(), ['@hnet/convert/hashing', '@hnet/format', '@hnet/runtime-wasm', '@hnet/train/browser', 'flatbuffers', 'onnxruntime-web']);
  for (const [specifier, url] of Object.entries(map.imports)) {
    const res = await request(url);
    assert.equal(res.status, 200, `${specifier} → ${url}`);
    assert.equal(res.type, 'text/javascript; charset=utf-8');
  }
  assert.deepEqual(missingPieces(), [], 'everything the page needs is built');
});

test('refuses paths outside the mounts, traversal in every spelling, directories and unknown kinds', async () => {
  for (const path of [
    '/server.mjs', '/package.json', '/test/server.test.ts',
    '/src/../server.mjs', '/src/%2e%2e/server.mjs', '/src/..%2fserver.mjs', '/src/%2E%2E%2F%2E%2E%2Fpackage.json',
    '/lib/format/dist/../package.json', '/lib/format/dist/..%2f..%2f..%2fpackage.json', '/models/..%5c..%5cserver.mjs',
    '/models/%00default.hnet', '/src/%zz', '/src/', '/lib/format/dist', '/lib/format/dist/index.d.ts',
  ]) {
    const res = await request(path);
    assert.equal(res.status, 404, `${path} → ${res.status}`);
  }
  assert.equal(resolveRequest('/src/../../package.json'), null);
  assert.equal(MIME_TYPES['.ts' as keyof typeof MIME_TYPES], undefined, '.ts sources are not served');
});

test('GET and HEAD only', async () => {
  assert.equal((await request('/', 'POST')).status, 405);
  assert.equal((await request('/models/default.hnet', 'PUT')).status, 405);
  const head = await request('/models/default.hnet', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`node server.mjs stops cleanly on ${signal}: exit code 0, nothing on stderr`, async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../server.mjs', import.meta.url))], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig })));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /serving the digit page at (\S+)/.exec(stdout);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`the server exited before listening: ${stderr}`)));
    });
    // A keep-alive connection is open when the signal comes, as a browser's would be.
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(url.replace('localhost', '127.0.0.1'), { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
    child.kill(signal);
    const result = await exited;
    agent.destroy();
    assert.deepEqual(result, { code: 0, signal: null });
    assert.match(stdout, new RegExp(`hnet web: stopped \\(${signal}\\)`));
    assert.equal(stderr.replace(/^hnet web: warning: .*\n/gm, ''), '', 'no error output');
  });
}
