// End-to-end test of the digit page (web/): the static server on a free port,
// Debian chromium driven by playwright-core, the page's default model drawn
// on with the mouse, classified in materialized and in streaming mode, a
// second model opened with the file picker, a corrupt file refused. The
// screenshot stays in test/test-results/web.png; docs/web.png is a copy of it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashModel, importOnnx } from '@hnet/convert';
import { decode, encode, expandWeight, type Model } from '@hnet/format';
import { startServer } from '../web/server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(HERE, 'test-results', 'web.png');
const execFileAsync = promisify(execFile);

let server: { url: string; close(): Promise<void> };
let browser: Browser;
let page: Page;
let temp: string;
const pageErrors: string[] = [];

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's chromium (run: apt-get install -y chromium)`);
  }
  temp = mkdtempSync(path.join(tmpdir(), 'hnet-web-'));
  server = await startServer({ port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
    headless: true,
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 1100 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (temp) rmSync(temp, { recursive: true, force: true });
});

/** Draws strokes on the pad; points in pad pixels (0–280). */
async function draw(strokes: [number, number][][]): Promise<void> {
  await page.locator('#pad').scrollIntoViewIfNeeded(); // mouse coordinates are the viewport's: a scrolled-away pad gets no strokes
  const box = await page.locator('#pad').boundingBox();
  assert.ok(box, 'the drawing pad is on the page');
  for (const points of strokes) {
    await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
    await page.mouse.down();
    // Each mouse move costs about a frame: long polylines move straight from point to point.
    const steps = points.length > 4 ? 1 : 6;
    for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps });
    await page.mouse.up();
  }
}

const prediction = () => page.locator('#prediction').getAttribute('data-digit');
/** A cell of the side-by-side table of runtime modes. */
const modeRow = async (mode: string, cell: string): Promise<string> => (await page.locator(`#mode-table tr[data-mode="${mode}"] ${cell}`).textContent()) ?? '';
/** "795.0 KiB" → bytes. */
function parseBytes(text: string): number {
  const m = /^([\d.]+) (B|KiB|MiB)$/.exec(text);
  assert.ok(m, `a size: "${text}"`);
  return Number(m[1]) * { B: 1, KiB: 1024, MiB: 1024 * 1024 }[m[2] as 'B' | 'KiB' | 'MiB'];
}

test('the page loads the default model and shows its size against the dense model', async () => {
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready]', { timeout: 15_000 });
  assert.equal(await page.getAttribute('body', 'data-ready'), 'true', `the default model did not load: ${await page.textContent('#error')}`);
  assert.equal(await page.textContent('#model-name'), 'default.hnet');
  // 784·256 + 256 + 256·10 + 10 = 203,530 virtual parameters, hashed at 1/8.
  assert.match((await page.textContent('#params')) ?? '', /^[\d,]+ stored \/ 203,530 virtual/);
  assert.match((await page.textContent('#size')) ?? '', /KiB \.hnet vs 795\.0 KiB dense float32 weights: [\d.]+× smaller/);
  assert.match((await page.textContent('#runtime')) ?? '', /@hnet\/runtime-wasm, materialized weights/);
  // Both modes are loaded and timed (on a blank digit) before anything is drawn.
  for (const mode of ['materialized', 'streaming']) assert.match(await modeRow(mode, '.time'), /^\d+\.\d{3} ms$/);
});

test('a drawn digit is classified by the WASM runtime', async () => {
  // A "7": a bar across the top and a diagonal down to the left.
  await draw([[[70, 50], [210, 50], [120, 240]]]);
  await page.waitForFunction(() => document.getElementById('prediction')?.dataset.digit !== '');
  assert.equal(await prediction(), '7', `predicted ${await page.textContent('#prediction')} (${await page.textContent('#confidence')})`);
  assert.match((await page.textContent('#time')) ?? '', /^\d+\.\d{3} ms \(mean of \d+ runs, batch 1/);
  const bars = await page.locator('#bars .value').allTextContents();
  assert.equal(bars.length, 10);
  const total = bars.reduce((s, t) => s + Number.parseFloat(t), 0);
  assert.ok(Math.abs(total - 100) < 1, `the ten probabilities add up to 100% (got ${total.toFixed(1)}%)`);

  // Clear, then a "0": an upright ellipse.
  await page.click('#clear');
  assert.equal(await prediction(), '');
  const ring = Array.from({ length: 33 }, (_, i): [number, number] => [140 + 65 * Math.sin((i / 32) * 2 * Math.PI), 140 - 100 * Math.cos((i / 32) * 2 * Math.PI)]);
  await draw([ring]);
  await page.waitForFunction(() => document.getElementById('prediction')?.dataset.digit !== '');
  assert.equal(await prediction(), '0', `predicted ${await page.textContent('#prediction')} (${await page.textContent('#confidence')})`);
});

test('materialized and streaming side by side: each mode\'s memory and time, and the same digit in both', async () => {
  // The "0" of the test before is on the pad, classified in materialized mode.
  const before = { digit: await prediction(), bars: await page.locator('#bars .value').allTextContents() };
  assert.equal(await page.getAttribute('#mode-table tr[data-mode="materialized"]', 'class'), 'active');
  const materialized = parseBytes(await modeRow('materialized', '.weights'));
  const streaming = parseBytes(await modeRow('streaming', '.weights'));
  // Materialized holds the 203,530 virtual float32 weights (shown rounded to 0.1 KiB); streaming the 25,674 stored ones and a tile.
  assert.ok(materialized > 0.999 * 203_530 * 4, `materialized holds the dense weights (${materialized} B)`);
  assert.ok(streaming < materialized / 4, `streaming holds a fraction of them (${streaming} B vs ${materialized} B)`);
  assert.ok(parseBytes(await modeRow('streaming', '.wasm')) < parseBytes(await modeRow('materialized', '.wasm')), 'a smaller WASM memory too');
  for (const mode of ['materialized', 'streaming']) assert.match(await modeRow(mode, '.time'), /^\d+\.\d{3} ms$/);

  await page.check('input[name="mode"][value="streaming"]');
  await page.waitForFunction(() => document.getElementById('runtime')!.textContent!.includes('streaming weights'));
  assert.match((await page.textContent('#time')) ?? '', /^\d+\.\d{3} ms \(mean of \d+ runs, batch 1, streaming\)$/);
  assert.equal(await page.getAttribute('#mode-table tr[data-mode="streaming"]', 'class'), 'active');
  assert.equal(await prediction(), before.digit, 'the same digit in streaming mode');
  const after = await page.locator('#bars .value').allTextContents();
  after.forEach((p, digit) => assert.ok(Math.abs(Number.parseFloat(p) - Number.parseFloat(before.bars[digit])) <= 0.1, `digit ${digit}: ${p} vs ${before.bars[digit]}`));
  // The tests after this one classify in streaming mode.
});

test('the file picker inspects another .hnet, which can then classify the drawing', async () => {
  // The same fixture hashed at 1/64 with float16 buckets, without retraining.
  const { model } = hashModel(importOnnx(path.join(ROOT, 'fixtures/mnist_mlp.onnx')).model, { compression: 1 / 64, seed: 7, bucketDtype: 'float16' });
  const file = path.join(temp, 'mnist_mlp_64.hnet');
  writeFileSync(file, encode(model));
  const fc1 = model.nodes.find((n) => n.op.type === 'Dense')!;
  assert.equal(fc1.op.type, 'Dense');
  const k = fc1.op.weight.values.data.length; // ceil(200704 / 64) = 3136

  await page.setInputFiles('#file', file);
  await page.waitForSelector('#inspect table');
  const inspect = (await page.textContent('#inspect')) ?? '';
  assert.match(inspect, /mnist_mlp_64\.hnet/);
  assert.match(inspect, /input \[N, 1, 28, 28\]/);
  assert.match(inspect, /output \[N, 10\]/);
  assert.match(inspect, /Flatten.*Dense.*Relu.*Dense/s);
  assert.match(inspect, new RegExp(`xxh32 K=${k.toLocaleString('en-US')}, bucket seed 0x[0-9a-f]{8}, sign seed 0x[0-9a-f]{8}`));
  assert.match(inspect, /203,530 virtual/);
  assert.equal(await page.locator('#inspect td', { hasText: /^float16$/ }).count(), 2, 'both hashed weights store float16 buckets');
  assert.match(inspect, /hash\.policy/);
  assert.equal(await page.isHidden('#error'), true);

  // The artefact: the default model's prediction beside the picked model's inspect panel.
  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(readFileSync(SCREENSHOT).length > 10_000, `screenshot written to ${SCREENSHOT}`);

  // It takes a 28×28 digit: it can replace the default model.
  assert.equal(await page.isVisible('#use'), true);
  await page.click('#use');
  await page.waitForFunction(() => document.getElementById('model-name')?.textContent === 'mnist_mlp_64.hnet');
  assert.match((await page.textContent('#prediction')) ?? '', /^\d$/, 'the drawing is classified again by the new model');
  assert.match((await page.textContent('#params')) ?? '', new RegExp(`^${(k + 256 + 40 + 10).toLocaleString('en-US')} stored / 203,530 virtual`));
});

test('a model that records an input normalization gets its pixels scaled that way', async () => {
  // The default model rewritten for inputs x' = (255·ink · 1/255 − 0.5) / 2: with
  // W' = 2W and b' = b + 0.5·(row sums of W), W'x' + b' = Wx + b, so the page must
  // show the very same probabilities, but only if it applies the recorded scaling.
  const original = decode(readFileSync(path.join(ROOT, 'web/models/default.hnet')));
  const fc1 = original.nodes[1];
  assert.ok(fc1.op.type === 'Dense' && fc1.op.weight.values.dtype === 'float32' && fc1.op.bias, 'fc1 is a Dense layer with float32 buckets');
  const dense = expandWeight(fc1.op.weight); // [256, 784]
  const [rows, cols] = fc1.op.weight.shape;
  const bias = expandWeight(fc1.op.bias!).map((b, r) => {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += dense[r * cols + c];
    return b + 0.5 * sum;
  });
  assert.equal(bias.length, rows);
  const scaled: Model = {
    ...original,
    nodes: original.nodes.map((node, i) => i !== 1 || node.op.type !== 'Dense' ? node : {
      ...node,
      op: {
        ...node.op,
        weight: { ...node.op.weight, values: { dtype: 'float32', data: (node.op.weight.values.data as Float32Array).map((v) => 2 * v) } },
        bias: { shape: [rows], hash: null, values: { dtype: 'float32', data: bias } },
      },
    }),
    metadata: { ...original.metadata, 'hnet.input.normalization': JSON.stringify({ scale: 1 / 255, mean: 0.5, std: 2 }) },
  };
  const file = path.join(temp, 'normalized.hnet');
  writeFileSync(file, encode(scaled));

  await page.goto(server.url); // back to the default model
  await page.waitForSelector('body[data-ready="true"]');
  await draw([[[70, 50], [210, 50], [120, 240]]]);
  await page.waitForFunction(() => document.getElementById('prediction')?.dataset.digit !== '');
  const before = await page.locator('#bars .value').allTextContents();
  await page.setInputFiles('#file', file);
  await page.click('#use');
  await page.waitForFunction(() => document.getElementById('model-name')?.textContent === 'normalized.hnet');
  assert.deepEqual(await page.locator('#bars .value').allTextContents(), before);
});

test('the README\'s headless command waits for the model: --virtual-time-budget, here with --dump-dom', async () => {
  // The flags of web/README.md's screenshot command, with --dump-dom to read the page instead of shooting it.
  // (Spawned asynchronously: the server answering it runs in this process.)
  const r = await execFileAsync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1000,1100',
    '--virtual-time-budget=10000', '--dump-dom', server.url,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 16 << 20 });
  assert.match(r.stdout, /<body data-ready="true">/, 'the default model had loaded when the page was taken');
  assert.match(r.stdout, /<tr data-mode="streaming"[^>]*><td>streaming<\/td><td class="weights">130\.9 KiB<\/td>/);
});

test('a corrupt or truncated file shows an error, not a crash', async () => {
  const good = encode(importOnnx(path.join(ROOT, 'fixtures/mnist_mlp.onnx')).model);
  const cases: [string, Uint8Array][] = [
    ['truncated.hnet', good.subarray(0, 200)],
    ['not-hnet.hnet', new TextEncoder().encode('this is not a model, just some text that is long enough')],
  ];
  for (const [name, bytes] of cases) {
    const file = path.join(temp, name);
    writeFileSync(file, bytes);
    await page.setInputFiles('#file', file);
    await page.waitForFunction((n) => document.getElementById('error')!.textContent!.startsWith(n) && !document.getElementById('error')!.hidden, name);
    const message = (await page.textContent('#error')) ?? '';
    assert.match(message, new RegExp(`^${name.replace('.', '\\.')}: not a usable \\.hnet file: .+`), message);
    assert.equal(await page.locator('#inspect table').count(), 0, 'no stale inspect tables next to the error');
  }
  // The page still works: draw a "1" with the model picked before.
  await page.click('#clear');
  await draw([[[140, 40], [140, 240]]]);
  await page.waitForFunction(() => document.getElementById('prediction')?.dataset.digit !== '');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test('retraining in the browser: onnxruntime-web retrains the 1/8 projection past its start, and the result classifies', async () => {
  const epochs = 2; // 40 steps, a few seconds on one WASM thread; the page's default is 15 epochs
  await page.fill('#retrain-epochs', String(epochs));
  await page.click('#retrain');
  await page.waitForSelector('#retrain-card[data-state="done"], #retrain-card[data-state="error"]', { timeout: 180_000 });
  assert.equal(await page.getAttribute('#retrain-card', 'data-state'), 'done', `retraining failed: ${await page.textContent('#retrain-error')}`);
  const number = async (id: string, key: string) => Number(await page.getAttribute(id, `data-${key}`));
  const before = { loss: await number('#retrain-before', 'loss'), accuracy: await number('#retrain-before', 'accuracy') };
  const after = { loss: await number('#retrain-after', 'loss'), accuracy: await number('#retrain-after', 'accuracy') };
  assert.ok(after.loss < before.loss, `held-out loss ${before.loss} → ${after.loss}`);
  assert.ok(after.accuracy > before.accuracy, `held-out accuracy ${before.accuracy} → ${after.accuracy}`);
  // The encoded model in the hnet runtime classifies the held-out digits as onnxruntime-web did (float rounding may flip a near tie).
  const inRuntime = await number('#retrain-runtime', 'accuracy');
  assert.ok(Math.abs(inRuntime - after.accuracy) <= 0.004, `runtime ${inRuntime} vs onnxruntime-web ${after.accuracy}`);
  const speed = (await page.textContent('#retrain-speed')) ?? '';
  assert.match(speed, new RegExp(`^${epochs} epochs \\(40 steps\\) in [\\d.]+ s: [\\d.]+ steps/s, \\d+ digits/s after a first run of [\\d.]+ s \\(session creation\\), ort \\(onnxruntime-web 1\\.\\d+\\.\\d+, 1 thread\\)$`), speed);
  console.log(`# browser retraining: ${speed}; held-out accuracy ${before.accuracy} → ${after.accuracy}, loss ${before.loss.toFixed(3)} → ${after.loss.toFixed(3)}`);

  await page.click('#retrain-use');
  await page.waitForFunction(() => document.getElementById('model-name')!.textContent!.startsWith('retrained in the browser'));
  assert.match((await page.textContent('#params')) ?? '', /^[\d,]+ stored \/ 203,530 virtual/);
  await page.click('#clear');
  await draw([[[70, 50], [210, 50], [120, 240]]]);
  await page.waitForFunction(() => document.getElementById('prediction')?.dataset.digit !== '');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});
