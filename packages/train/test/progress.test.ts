import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSeconds, PIPE_INTERVAL_MS, Progress } from '../src/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, write: (t: string) => out.push(t), isTTY };
}

/** A clock the test moves by hand (milliseconds). */
function fakeClock() {
  const clock = { t: 1000, now: () => clock.t };
  return clock;
}

test('on a terminal: a redrawn bar with loss, accuracy, and the epoch and run ETAs labelled', () => {
  const s = sink(true);
  const clock = fakeClock();
  const p = new Progress(s, 3, { now: clock.now });
  p.startEpoch();
  clock.t += 5000;
  p.step(1, 50, 100, 0.5, 0.75); // half an epoch in 5 s: 5 s left in it, then 2 epochs of 10 s
  clock.t += 5000;
  p.step(1, 100, 100, 0.25, 0.8);
  p.endEpoch(1, 'loss 0.2500 acc 80.00%', 2);
  assert.equal(s.out[0], '\r\x1b[2Kepoch 1/3 [===========>            ] 50% loss 0.5000 acc 75.00% 10 examples/s · ETA epoch 5s, run 25s');
  assert.equal(s.out.at(-1), '\r\x1b[2Kepoch 1/3 loss 0.2500 acc 80.00% · 10.0s · ETA run 20s\n');

  // The second epoch runs faster: its own ETA follows it, the run's uses the finished epochs' mean for the rest.
  p.startEpoch();
  clock.t += 2000;
  p.step(2, 50, 100, 0.2, 0.85);
  assert.equal(s.out.at(-1), '\r\x1b[2Kepoch 2/3 [===========>            ] 50% loss 0.2000 acc 85.00% 25 examples/s · ETA epoch 2s, run 12s');
  clock.t += 10; // redraws at most every 100 ms
  p.step(2, 60, 100, 0.2, 0.85);
  assert.equal(s.out.length, 4);
});

test('on a narrow terminal the bar is cut to its width (a wrapped line could not be redrawn)', () => {
  const s = { ...sink(true), columns: 40 };
  const clock = fakeClock();
  const p = new Progress(s, 3, { now: clock.now });
  p.startEpoch();
  clock.t += 5000;
  p.step(1, 50, 100, 0.5, 0.75);
  assert.equal(s.out[0], '\r\x1b[2Kepoch 1/3 [===========>            ] 50'); // 39 columns: the cursor stays on the line
});

test('in a pipe: a plain line at the interval with epoch, step, examples/s and both ETAs', () => {
  const s = sink(false);
  const clock = fakeClock();
  const p = new Progress(s, 2, { now: clock.now, intervalMs: 10_000 });
  // 2 epochs of 100 steps of 50 examples, 0.5 s per step: a line every 20 steps.
  for (let epoch = 1; epoch <= 2; epoch++) {
    p.startEpoch();
    for (let k = 1; k <= 100; k++) {
      clock.t += 500;
      p.step(epoch, k * 50, 5000, 0.1, 0.9);
    }
    p.endEpoch(epoch, 'loss 0.1000 acc 90.00%', 2 - epoch);
  }
  const progressLines = s.out.filter((l) => l.includes(' step '));
  // Step 100 is left to the epoch line, which follows at once.
  assert.deepEqual(s.out.slice(0, 5), [
    'epoch 1/2 step 20/100 · loss 0.1000 acc 90.00% · 100 examples/s · ETA epoch 40s, run 1m30s\n',
    'epoch 1/2 step 40/100 · loss 0.1000 acc 90.00% · 100 examples/s · ETA epoch 30s, run 1m20s\n',
    'epoch 1/2 step 60/100 · loss 0.1000 acc 90.00% · 100 examples/s · ETA epoch 20s, run 1m10s\n',
    'epoch 1/2 step 80/100 · loss 0.1000 acc 90.00% · 100 examples/s · ETA epoch 10s, run 1m00s\n',
    'epoch 1/2 loss 0.1000 acc 90.00% · 50.0s · ETA run 50s\n',
  ]);
  // The epoch line restarts the interval: the next progress line is 10 s after it.
  assert.equal(s.out[5], 'epoch 2/2 step 20/100 · loss 0.1000 acc 90.00% · 100 examples/s · ETA epoch 40s, run 40s\n');
  assert.equal(s.out.at(-1), 'epoch 2/2 loss 0.1000 acc 90.00% · 50.0s\n');
  assert.equal(progressLines.length, 8);
  assert.ok(s.out.every((l) => !l.includes('\r') && !l.includes('\x1b')), 'no terminal control codes in a pipe');
});

test('in a pipe, steps faster than the interval print nothing between epoch lines; the default interval is 10 s', () => {
  assert.equal(PIPE_INTERVAL_MS, 10_000);
  const s = sink(false);
  const clock = fakeClock();
  const p = new Progress(s, 2, { now: clock.now });
  p.startEpoch();
  for (let k = 1; k <= 10; k++) {
    clock.t += 100;
    p.step(2, k * 10, 100, 0.1, 0.9);
  }
  p.endEpoch(2, 'loss 0.1000 acc 90.00%', 0);
  assert.deepEqual(s.out, ['epoch 2/2 loss 0.1000 acc 90.00% · 1.0s\n']);
});

test('time formatting', () => {
  assert.deepEqual([formatSeconds(9.4), formatSeconds(90), formatSeconds(3725), formatSeconds(Infinity)], ['9s', '1m30s', '1h02m', '?']);
});

test('quiet: nothing at all', () => {
  const p = new Progress(null, 1);
  p.startEpoch();
  p.step(1, 1, 1, 0, 0);
  p.endEpoch(1, '', 0);
  p.line('x');
});
