// Per-epoch progress on stderr: a redrawn bar with loss, accuracy, speed and
// time left on a terminal; otherwise one plain line per epoch, plus a line
// every ten seconds within epochs that last longer than that.

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR = 24;
/** Without a terminal: seconds between within-epoch lines (none in shorter epochs). */
const PLAIN_EVERY = 10;

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private epochStart = 0;
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly sink: ProgressSink | null,
    private readonly epochs: number,
    private readonly now: () => number = () => performance.now(), // ms; a test clock may replace it
  ) {
    this.tty = Boolean(sink?.isTTY);
  }

  startEpoch(): void {
    this.epochStart = this.now();
    this.lastDraw = this.tty ? 0 : this.epochStart;
  }

  /** After each batch: redraws the bar at most 10 times a second (terminal), or a plain line every PLAIN_EVERY seconds. */
  step(epoch: number, done: number, total: number, loss: number, accuracy: number): void {
    if (!this.sink) return;
    const now = this.now();
    if (this.tty ? now - this.lastDraw < 100 && done < total : now - this.lastDraw < PLAIN_EVERY * 1000 || done >= total) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const left = (elapsed / done) * (total - done);
    const speed = `${Math.round(done / Math.max(elapsed, 1e-9))} examples/s`;
    if (!this.tty) {
      this.sink.write(`epoch ${epoch}/${this.epochs}: ${done}/${total} examples, ${speed}, loss ${loss.toFixed(4)} acc ${(100 * accuracy).toFixed(2)}%, ETA ${formatSeconds(left)}\n`);
      return;
    }
    const filled = Math.round((done / total) * BAR);
    const bar = '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 ? '>' : '') + ' '.repeat(BAR - filled);
    this.sink.write(
      `\r\x1b[2Kepoch ${epoch}/${this.epochs} [${bar}] ${Math.floor((100 * done) / total)}% loss ${loss.toFixed(4)} acc ${(100 * accuracy).toFixed(2)}% ${speed} ETA ${formatSeconds(left)}`,
    );
  }

  /** One line per finished epoch; `remainingEpochs` gives the overall time left. */
  endEpoch(epoch: number, text: string, remainingEpochs: number): void {
    if (!this.sink) return;
    const seconds = (this.now() - this.epochStart) / 1000;
    const eta = remainingEpochs > 0 ? ` · ETA ${formatSeconds(seconds * remainingEpochs)}` : '';
    this.sink.write(`${this.tty ? '\r\x1b[2K' : ''}epoch ${epoch}/${this.epochs} ${text} · ${seconds.toFixed(1)}s${eta}\n`);
  }

  line(text: string): void {
    this.sink?.write(text + '\n');
  }
}
