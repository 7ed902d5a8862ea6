// Lines on stderr for the steps of a big model that take a while (importing a
// large .onnx, hashing a large layer, expanding weights for export-onnx), so
// that minutes of work are never minutes of silence. Small models print
// nothing: a line appears before work that is big, or once a step has run for
// a couple of seconds, and a step that took that long says so when it ends.

import { formatBytes, formatCount } from '@hnet/format';

/** Files at least this large are announced before they are read. */
export const BIG_FILE_BYTES = 64 << 20;
/** Layers with at least this many virtual weights are announced before they are hashed (≈ a second each). */
export const BIG_LAYER_WEIGHTS = 1 << 22;
/** After this long in one step, every further layer is announced, and the step's time is printed. */
export const SLOW_SECONDS = 2;

export interface SlowWorkOptions {
  now?: () => number; // milliseconds; performance.now by default (tests pass a fake clock)
}

export class SlowWork {
  private readonly now: () => number;

  constructor(
    private readonly err: (text: string) => void,
    options: SlowWorkOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Runs `work` as one step named `what` ("importing big.onnx"); `bytes` is the
   * size of its input, announced first when it is big.
   */
  step<T>(what: string, bytes: number, work: (step: Step) => T): T {
    const step = new Step(what, this.err, this.now);
    if (bytes >= BIG_FILE_BYTES) this.err(`${what} (${formatBytes(bytes)})…`);
    const result = work(step);
    step.end();
    return result;
  }
}

export class Step {
  private readonly start: number;

  constructor(
    private readonly what: string,
    private readonly err: (text: string) => void,
    private readonly now: () => number,
  ) {
    this.start = now();
  }

  private elapsed(): number {
    return (this.now() - this.start) / 1000;
  }

  /** Before item `index` (0-based) of `total` ("/fc1/Gemm weight"): announced when it is big or the step is already slow. */
  item(name: string, virtual: number, index: number, total: number, detail = ''): void {
    if (virtual >= BIG_LAYER_WEIGHTS || this.elapsed() >= SLOW_SECONDS) {
      this.err(`  ${this.what}: ${index + 1}/${total} ${name}, ${formatCount(virtual)} weights${detail ? ` ${detail}` : ''}…`);
    }
  }

  end(): void {
    const seconds = this.elapsed();
    if (seconds >= SLOW_SECONDS) this.err(`${this.what}: done in ${seconds.toFixed(1)} s`);
  }
}
