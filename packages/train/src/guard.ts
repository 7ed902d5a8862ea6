// The divergence guard: watches each step's loss and says when training has
// blown up (a NaN/inf, or a loss far above what the run has been seeing), so
// that the trainer can restore the last good state, lower the learning rate
// and go on, a bounded number of times.

import { TrainError } from './errors.js';

export interface GuardOptions {
  /** How many times the rate may be lowered before the run gives up (default 3). */
  retries?: number;
  /** Factor on the learning rate at each retry (default 0.3). */
  rateFactor?: number;
  /** A loss above this many times the running median, or the first loss, counts as exploding (default 10). */
  explodeFactor?: number;
  /** Losses in the running median (default 50). */
  window?: number;
}

export class DivergenceGuard {
  readonly retries: number;
  readonly rateFactor: number;
  private readonly explodeFactor: number;
  private readonly window: number;
  private readonly recent: number[] = [];
  private first: number | null = null;
  /** Times the rate was lowered so far. */
  attempts = 0;
  /** Product of the factors applied so far: multiply the scheduled rate by it. */
  rateScale = 1;

  constructor(options: GuardOptions = {}) {
    this.retries = options.retries ?? 3;
    this.rateFactor = options.rateFactor ?? 0.3;
    this.explodeFactor = options.explodeFactor ?? 10;
    this.window = options.window ?? 50;
    if (!(this.rateFactor > 0 && this.rateFactor < 1)) throw new TrainError('options', `guard rate factor ${this.rateFactor}: must be in (0, 1)`);
  }

  /** Why this loss means divergence, or null when it is healthy (then it joins the running median). */
  check(loss: number): string | null {
    if (!Number.isFinite(loss)) return `the loss became ${loss}`;
    // A floor keeps a run that fits its data almost perfectly (losses ~1e-3) from calling noise an explosion.
    const floor = 0.1;
    if (this.first !== null && loss > this.explodeFactor * Math.max(this.first, floor)) {
      return `the loss ${loss.toPrecision(4)} is over ${this.explodeFactor}× the first step's ${this.first.toPrecision(4)}`;
    }
    if (this.recent.length >= 10) {
      const median = [...this.recent].sort((a, b) => a - b)[this.recent.length >> 1];
      if (loss > this.explodeFactor * Math.max(median, floor)) return `the loss ${loss.toPrecision(4)} is over ${this.explodeFactor}× the running median ${median.toPrecision(4)}`;
    }
    this.first ??= loss;
    this.recent.push(loss);
    if (this.recent.length > this.window) this.recent.shift();
    return null;
  }

  /** After a divergence: lowers the rate, or throws when the retries are used up. Returns the new scale. */
  backOff(reason: string, learningRate: number): number {
    if (this.attempts >= this.retries) {
      throw new TrainError(
        'options',
        `${reason} again after lowering the learning rate ${this.retries} times (to ${(learningRate * this.rateScale).toPrecision(3)}): training diverges; give a lower --lr, or check the input preprocessing (--preprocess)`,
      );
    }
    this.attempts++;
    this.rateScale *= this.rateFactor;
    // The losses before the blow-up describe a different rate; start the median afresh.
    this.recent.length = 0;
    return this.rateScale;
  }
}
