import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../src/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, write: (t: string) => out.push(t), isTTY };
}

test('on a terminal: a redrawn bar with loss, accuracy and ETA, then the epoch line', () => {
  const s = sink(true);
  const p = new Progress(s, 3);
  p.startEpoch();
  p.step(1, 50, 100, 0.5, 0.75);
  p.step(1, 100, 100, 0.25, 0.8);
  p.endEpoch(1, 'loss 0.2500 acc 80.00%', 2);
  assert.match(s.out[0], /^\r\x1b\[2Kepoch 1\/3 \[=+> *\] 50% loss 0\.5000 acc 75\.00% \d+ examples\/s ETA \d+s$/);
  assert.match(s.out.at(-1)!, /^\r\x1b\[2Kepoch 1\/3 loss 0\.2500 acc 80\.00% · \d+\.\ds · ETA \d+s\n$/);
});

test('not a terminal: only one plain line per epoch', () => {
  const s = sink(false);
  const p = new Progress(s, 2);
  p.startEpoch();
  for (let k = 1; k <= 10; k++) p.step(2, k * 10, 100, 0.1, 0.9);
  p.endEpoch(2, 'loss 0.1000 acc 90.00%', 0);
  assert.equal(s.out.length, 1);
  assert.match(s.out[0], /^epoch 2\/2 loss 0\.1000 acc 90\.00% · \d+\.\ds\n$/);
});

test('not a terminal, a long epoch: a line with examples/s and ETA every ten seconds', () => {
  const s = sink(false);
  let ms = 0;
  const p = new Progress(s, 1, () => ms);
  p.startEpoch();
  for (let k = 1; k <= 25; k++) {
    ms = k * 1000; // one batch of 100 examples per second
    p.step(1, k * 100, 2500, 0.5, 0.5);
  }
  p.endEpoch(1, 'loss 0.5000 acc 50.00%', 0);
  assert.equal(s.out.length, 3);
  assert.equal(s.out[0], 'epoch 1/1: 1000/2500 examples, 100 examples/s, loss 0.5000 acc 50.00%, ETA 15s\n');
  assert.equal(s.out[1], 'epoch 1/1: 2000/2500 examples, 100 examples/s, loss 0.5000 acc 50.00%, ETA 5s\n');
  assert.match(s.out[2], /^epoch 1\/1 loss 0\.5000 acc 50\.00% · 25\.0s\n$/);
});

test('quiet: nothing at all', () => {
  const p = new Progress(null, 1);
  p.startEpoch();
  p.step(1, 1, 1, 0, 0);
  p.endEpoch(1, '', 0);
  p.line('x');
});
