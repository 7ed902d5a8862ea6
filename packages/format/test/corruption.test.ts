// Truncated and bit-flipped files: decode either succeeds or throws its own
// HnetFormatError, never anything else, and never hangs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode, HnetFormatError, type Model } from '../src/index.js';
import { randomModel, rng } from './models.js';

function decodeOnce(bytes: Uint8Array, label: string): { outcome: 'ok' | 'error'; ms: number } {
  const start = performance.now();
  try {
    decode(bytes);
    return { outcome: 'ok', ms: performance.now() - start };
  } catch (e) {
    if (!(e instanceof HnetFormatError)) {
      assert.fail(`${label}: decode threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of HnetFormatError`);
    }
    return { outcome: 'error', ms: performance.now() - start };
  }
}

function decodeOutcome(bytes: Uint8Array, label: string): 'ok' | 'error' {
  // A file of a few KB must never take long: a loop bounded by a forged length would show here.
  // A slow decode is timed once more before it fails the test: a forged length is slow every
  // time, a busy machine (the suite runs beside other jobs) only once in a while.
  const first = decodeOnce(bytes, label);
  const ms = first.ms < 1000 ? first.ms : Math.min(first.ms, decodeOnce(bytes, label).ms);
  assert.ok(ms < 1000, `${label}: decode took ${ms.toFixed(0)} ms, twice`);
  return first.outcome;
}

const samples: Model[] = [1, 2, 3, 4].map(randomModel);

test('every truncation of valid files fails cleanly', () => {
  let errors = 0;
  for (const [m, model] of samples.entries()) {
    const bytes = encode(model);
    for (let length = 0; length < bytes.length; length++) {
      if (decodeOutcome(bytes.subarray(0, length), `model ${m} cut to ${length}`) === 'error') errors++;
    }
  }
  assert.ok(errors > 1000, `${errors} truncations rejected`);
});

test('thousands of random byte flips never escape as another error', () => {
  const random = rng(2024);
  const counts = { ok: 0, error: 0 };
  for (let trial = 0; trial < 6000; trial++) {
    const bytes = encode(samples[trial % samples.length]);
    const flips = 1 + Math.floor(random() * 4);
    for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    counts[decodeOutcome(bytes, `trial ${trial}`)]++;
  }
  // Both outcomes must occur: flips in bucket values decode fine, flips in offsets do not.
  assert.ok(counts.ok > 100 && counts.error > 100, JSON.stringify(counts));
});

test('flips aimed at the header, vtables and offsets (the first 256 bytes)', () => {
  const random = rng(7);
  const bytes = encode(samples[0]);
  for (let i = 0; i < Math.min(256, bytes.length); i++) {
    for (const value of [0x00, 0xff, 0x7f, 0x80, Math.floor(random() * 256)]) {
      const copy = bytes.slice();
      copy[i] = value;
      decodeOutcome(copy, `byte ${i} = ${value}`);
    }
  }
});
