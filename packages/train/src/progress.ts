// Training progress on stderr. On a terminal: a bar redrawn at most 10 times a
// second, with loss, accuracy and two labelled ETAs (this epoch, the whole
// run). In a pipe (CI, nohup, a log file) a bar would be noise and one line
// per epoch is minutes of silence, so a plain line is printed at a steady
// interval instead: epoch, step, examples/s and the same two ETAs (none in
// epochs shorter than the interval). Either way each finished epoch gets one line.

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number; // a terminal's width: the bar is cut to it, since a wrapped line cannot be redrawn
}

export interface ProgressOptions {
  /** Milliseconds between plain lines in a pipe (default 10 s). */
  intervalMs?: number;
  /** Milliseconds; performance.now by default (tests pass a fake clock). */
  now?: () => number;
}

const BAR = 24;
const REDRAW_MS = 100;
export const PIPE_INTERVAL_MS = 10_000;

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private epochStart = 0;
  private lastDraw = -Infinity; // terminal: the last redraw of the bar
  private lastLine = 0; // pipe: the last line written, of any kind
  private steps = 0; // steps (batches) of the current epoch so far
  private firstBatch = 0; // examples in the epoch's first step: the batch size
  private readonly epochSeconds: number[] = []; // finished epochs, validation included

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly epochs: number,
    options: ProgressOptions = {},
  ) {
    this.tty = Boolean(sink?.isTTY);
    this.intervalMs = options.intervalMs ?? PIPE_INTERVAL_MS;
    this.now = options.now ?? (() => performance.now());
    this.lastLine = this.now();
  }

  startEpoch(): void {
    this.epochStart = this.now();
    this.lastDraw = -Infinity;
    this.steps = 0;
    this.firstBatch = 0;
  }

  /** After each step (batch): `done` of `total` examples of epoch `epoch` (1-based). */
  step(epoch: number, done: number, total: number, loss: number, accuracy: number): void {
    if (!this.sink) return;
    this.steps++;
    if (this.steps === 1) this.firstBatch = done;
    const now = this.now();
    // In a pipe the epoch's last step is left to the epoch line that follows it.
    if (this.tty ? now - this.lastDraw < REDRAW_MS && done < total : now - this.lastLine < this.intervalMs || done >= total) return;
    const elapsed = (now - this.epochStart) / 1000;
    const epochLeft = (elapsed / done) * (total - done);
    // Later epochs take as long as the finished ones did on average (or, in the first, as this one is going).
    const perEpoch = this.epochSeconds.length ? mean(this.epochSeconds) : (elapsed / done) * total;
    const runLeft = epochLeft + (this.epochs - epoch) * perEpoch;
    const eta = `ETA epoch ${formatSeconds(epochLeft)}, run ${formatSeconds(runLeft)}`;
    const metrics = `loss ${loss.toFixed(4)} acc ${(100 * accuracy).toFixed(2)}%`;
    const speed = `${Math.round(done / Math.max(elapsed, 1e-9))} examples/s`;
    if (this.tty) {
      this.lastDraw = now;
      const filled = Math.round((done / total) * BAR);
      const bar = '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 ? '>' : '') + ' '.repeat(BAR - filled);
      const text = `epoch ${epoch}/${this.epochs} [${bar}] ${Math.floor((100 * done) / total)}% ${metrics} ${speed} · ${eta}`;
      this.sink.write(`\r\x1b[2K${this.sink.columns ? text.slice(0, this.sink.columns - 1) : text}`);
    } else {
      this.lastLine = now;
      const totalSteps = Math.ceil(total / this.firstBatch);
      this.sink.write(`epoch ${epoch}/${this.epochs} step ${this.steps}/${totalSteps} · ${metrics} · ${speed} · ${eta}\n`);
    }
  }

  /** One line per finished epoch; `remainingEpochs` gives the run's time left. */
  endEpoch(epoch: number, text: string, remainingEpochs: number): void {
    if (!this.sink) return;
    const now = this.now();
    const seconds = (now - this.epochStart) / 1000;
    this.epochSeconds.push(seconds);
    const eta = remainingEpochs > 0 ? ` · ETA run ${formatSeconds(mean(this.epochSeconds) * remainingEpochs)}` : '';
    this.write(`${this.tty ? '\r\x1b[2K' : ''}epoch ${epoch}/${this.epochs} ${text} · ${seconds.toFixed(1)}s${eta}\n`);
  }

  line(text: string): void {
    this.write(text + '\n');
  }

  private write(text: string): void {
    if (!this.sink) return;
    this.sink.write(text);
    this.lastLine = this.now();
  }
}

const mean = (values: number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
