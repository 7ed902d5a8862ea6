// The shared loop (loop.ts) on a scripted engine: how it groups batches into
// runs, the rate it gives each step, and what the guard does when a step in
// the middle of a run diverges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Batch, StepResult, TrainingEngine } from '../src/engine.js';
import { runEpochs, type TrainingSets } from '../src/loop.js';
import { Progress } from '../src/progress.js';
import { Rng } from '../src/rng.js';
import { learningRateAt, type ScheduleOptions } from '../src/schedule.js';

/** An engine whose loss at global step s (1-based) is lossAt(s); its "values" are the count of steps applied. */
function scriptedEngine(stepsPerRun: number, lossAt: (step: number) => number) {
  let applied = 0;
  const runs: { sizes: number[]; rates: number[] }[] = [];
  const restores: number[] = [];
  const engine: TrainingEngine = {
    name: 'ort', description: 'scripted', threads: 1, classes: 2, stepsPerRun,
    parameterCounts: () => ({ stored: 1, virtual: 1 }),
    step: (batch, lr) => engine.steps([batch], [lr]).then((r) => r[0]),
    async steps(batches: readonly Batch[], lrs: readonly number[]): Promise<StepResult[]> {
      runs.push({ sizes: batches.map((b) => b.count), rates: [...lrs] });
      return batches.map((b) => ({ loss: lossAt(++applied), hits: b.count }));
    },
    gradients: async () => ({ loss: 0, grads: [] }),
    logits: async (x, count) => Float32Array.from({ length: count * 2 }, (_, i) => (i % 2 ? 1 : 0)),
    snapshot: () => [Float32Array.of(applied)],
    restore: (values) => void restores.push(values[0][0]),
    resetOptimizer: () => {},
    toModel: () => { throw new Error('not used'); },
    dispose: async () => {},
  };
  return { engine, runs, restores };
}

const sets = (count: number): TrainingSets => ({
  train: { x: new Float32Array(count), y: new Int32Array(count).fill(1), shape: [1], count },
  validation: null, teacherTrain: null, teacherValidation: null,
});
const schedule = (stepsPerEpoch: number, epochs: number): ScheduleOptions =>
  ({ learningRate: 0.1, schedule: 'cosine', stepEvery: 10, stepGamma: 0.1, epochs, stepsPerEpoch, warmupSteps: 3 });

test('runEpochs: stepsPerRun full batches per run while there are that many, then one at a time; each step at its scheduled rate', async () => {
  const { engine, runs } = scriptedEngine(4, () => 1);
  const s = schedule(12, 2); // 23 examples in batches of 2: 11 full batches and one of 1
  const result = await runEpochs(engine, sets(23), { epochs: 2, batchSize: 2, patience: Infinity, schedule: s }, new Rng(1), new Progress(null, 2));
  const epoch = [[2, 2, 2, 2], [2, 2, 2, 2], [2], [2], [2], [1]];
  assert.deepEqual(runs.map((r) => r.sizes), [...epoch, ...epoch]);
  assert.deepEqual(runs.flatMap((r) => r.rates), Array.from({ length: 24 }, (_, k) => learningRateAt(k, s)));
  assert.equal(result.history.length, 2);
  assert.equal(result.history[1].learningRate, learningRateAt(23, s));
  assert.equal(result.divergences, 0);
});

test('runEpochs: a divergence in the middle of a run restores the good state kept after the run that crossed step 100, and lowers the rate', async () => {
  // 120 examples in batches of 2, 3 steps per run: epoch 2 runs steps 61–63, …, 100–102, 103–105, …
  const { engine, runs, restores } = scriptedEngine(3, (step) => (step === 104 ? NaN : 1));
  let out = '';
  const s = schedule(60, 3);
  const result = await runEpochs(engine, sets(120), { epochs: 3, batchSize: 2, patience: Infinity, schedule: s }, new Rng(1), new Progress({ write: (t) => (out += t) }, 3));
  assert.equal(result.divergences, 1);
  assert.match(out, /epoch 2, step 104: the loss became NaN; restored the state of step 102, learning rate ×0\.3 \(retry 1\/3\)/);
  assert.deepEqual(restores, [102]);
  // The run after the one that diverged (steps 106–108) is at 0.3 × the schedule.
  const next = runs[35];
  assert.deepEqual(next.sizes, [2, 2, 2]);
  next.rates.forEach((r, t) => assert.ok(Math.abs(r - 0.3 * learningRateAt(105 + t, s)) < 1e-12, `step ${106 + t}: rate ${r}`));
  assert.equal(runs.length, 60);
});
