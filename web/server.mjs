// The digit page's static server: node:http, no dependency, GET/HEAD only.
//
// It serves a fixed allow-list of folders under fixed URL prefixes, nothing
// else (no directory listings, no files outside the mounts, symlinks resolved
// before the check). The page's import map points the bare specifiers
// '@hnet/runtime-wasm', '@hnet/format', 'flatbuffers', '@hnet/train/browser',
// '@hnet/convert/hashing' and 'onnxruntime-web' at the mounts below, so the
// browser loads the packages' built ES modules as they are, no bundler.
//
//   npm run web                 → http://localhost:8080/
//   PORT=9000 npm run web
//
// In code: const { url, close } = await startServer({ port: 0 });

import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.dirname(fileURLToPath(import.meta.url));
/** Where a package is installed, looked up the way Node does (workspaces may hoist it or not). */
function packageDir(name) {
  for (let dir = WEB; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === path.dirname(dir)) throw new Error(`cannot find the package ${name} in a node_modules above ${WEB}; run npm ci`);
  }
}

/** URL prefix → folder on disk. Everything the page needs, and nothing more. */
export function mounts() {
  const runtime = packageDir('@hnet/runtime-wasm');
  const format = packageDir('@hnet/format');
  const flatbuffers = packageDir('flatbuffers');
  return [
    { prefix: '/src/', dir: path.join(WEB, 'src') },
    { prefix: '/models/', dir: path.join(WEB, 'models') },
    { prefix: '/data/', dir: path.join(WEB, 'data') },
    { prefix: '/lib/runtime-wasm/dist/', dir: path.join(runtime, 'dist') },
    { prefix: '/lib/runtime-wasm/build/', dir: path.join(runtime, 'build') },
    { prefix: '/lib/format/dist/', dir: path.join(format, 'dist') },
    { prefix: '/lib/flatbuffers/mjs/', dir: path.join(flatbuffers, 'mjs') },
    // retraining: the ort engine without Node, the hashing, and onnxruntime-web's ES modules and .wasm
    { prefix: '/lib/train/dist/', dir: path.join(packageDir('@hnet/train'), 'dist') },
    { prefix: '/lib/convert/dist/', dir: path.join(packageDir('@hnet/convert'), 'dist') },
    { prefix: '/lib/onnxruntime-web/dist/', dir: path.join(packageDir('onnxruntime-web'), 'dist') },
  ];
}

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.hnet': 'application/octet-stream',
  '.gz': 'application/gzip', // web/data/digits.bin.gz, gunzipped by the page itself
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The file a URL path maps to, or null. Decodes %-escapes first, then checks
 * the resolved (and symlink-free) path is still inside its mount: this is the
 * one place that stops "/src/../../etc/passwd" and its encoded variants.
 */
export function resolveRequest(urlPath, table = mounts()) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null; // malformed %-escape
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  if (decoded === '/' || decoded === '/index.html') return path.join(WEB, 'index.html');
  const mount = table.find((m) => decoded.startsWith(m.prefix));
  if (!mount || !existsSync(mount.dir)) return null;
  const root = realpathSync(mount.dir);
  const wanted = path.resolve(root, '.' + decoded.slice(mount.prefix.length - 1));
  if (!existsSync(wanted)) return null;
  const real = realpathSync(wanted);
  if (!real.startsWith(root + path.sep)) return null;
  if (!statSync(real).isFile()) return null;
  if (!(path.extname(real) in MIME_TYPES)) return null; // only the kinds of file the page uses
  return real;
}

function handler(table) {
  return (req, res) => {
    const send = (status, text) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : `${status} ${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(405, 'method not allowed');
    }
    const urlPath = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file;
    try {
      file = resolveRequest(urlPath, table);
    } catch (err) {
      return send(500, `cannot read ${urlPath}: ${err.message}`);
    }
    if (!file) return send(404, `not found: ${urlPath}`);
    res.writeHead(200, {
      'Content-Type': MIME_TYPES[path.extname(file)],
      'Content-Length': statSync(file).size,
      'Cache-Control': 'no-store', // a development server: always the freshly built files
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}

/** Things the page cannot work without, each with what to run. */
export function missingPieces(table = mounts()) {
  const need = [
    ['/lib/runtime-wasm/build/hnet.wasm', 'the runtime .wasm: run `npm run build` (or `npm run build -w @hnet/runtime-wasm`)'],
    ['/lib/runtime-wasm/dist/index.js', 'the runtime wrapper: run `npm run build`'],
    ['/lib/format/dist/index.js', '@hnet/format: run `npm run build`'],
    ['/models/default.hnet', 'the default model: run `npm run make-default-model -w @hnet/web`'],
    ['/lib/train/dist/browser.js', '@hnet/train (retraining): run `npm run build`'],
    ['/lib/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm', 'onnxruntime-web (retraining): run `npm ci`'],
    ['/models/dense.hnet', 'the dense model retraining starts from: run `npm run make-retrain-data -w @hnet/web`'],
    ['/data/digits.bin.gz', 'the digits retraining uses: run `npm run make-retrain-data -w @hnet/web`'],
  ];
  return need.filter(([url]) => resolveRequest(url, table) === null).map(([, hint]) => hint);
}

/** Starts the server; port 0 picks a free one. Resolves once it listens. */
export function startServer({ port = 8080, host = '127.0.0.1' } = {}) {
  const table = mounts();
  const server = http.createServer(handler(table));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = /** @type {import('node:net').AddressInfo} */ (server.address());
      const shown = host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host;
      resolve({
        url: `http://${shown}:${actual}/`,
        port: actual,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections(); // a page's keep-alive connection would otherwise hold the close open
        }),
      });
    });
  });
}

// `node server.mjs` (npm run web): listen on PORT (default 8080), print the URL.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = process.env.PORT === undefined ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`hnet web: PORT=${process.env.PORT} is not a port number (0-65535)`);
    process.exit(2);
  }
  for (const hint of missingPieces()) console.error(`hnet web: warning: missing ${hint}`);
  startServer({ port, host: process.env.HOST ?? '127.0.0.1' }).then(
    ({ url, close }) => {
      console.log(`hnet web: serving the digit page at ${url}  (Ctrl+C to stop)`);
      // Ctrl+C (or a service manager's SIGTERM) is how this server is meant to stop: exit 0,
      // so that `npm run web` does not report "command failed" for it.
      for (const signal of ['SIGINT', 'SIGTERM']) {
        process.once(signal, () => close().then(() => {
          console.log(`hnet web: stopped (${signal})`);
          process.exit(0);
        }));
      }
    },
    (err) => {
      const hint = err.code === 'EADDRINUSE' ? `; pick another one, e.g. PORT=${port + 1} npm run web` : '';
      console.error(`hnet web: cannot listen on port ${port}: ${err.code ?? err.message}${hint}`);
      process.exit(1);
    },
  );
}
