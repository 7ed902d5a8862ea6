// Per-epoch progress on stderr: a redrawn bar with loss, accuracy and time
// left on a terminal, one plain line per epoch otherwise.

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR = 24;

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
  ) {
    this.tty = Boolean(sink?.isTTY);
  }

  startEpoch(): void {
    this.epochStart = performance.now();
    this.lastDraw = 0;
  }

  /** After each batch: redraws the bar at most 10 times a second (terminal only). */
  step(epoch: number, done: number, total: number, loss: number, accuracy: number): void {
    if (!this.sink || !this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const left = (elapsed / done) * (total - done);
    const filled = Math.round((done / total) * BAR);
    const bar = '='.repeat(Math.max(filled - 1, 0)) + (filled > 0 ? '>' : '') + ' '.repeat(BAR - filled);
    this.sink.write(
      `\r\x1b[2Kepoch ${epoch}/${this.epochs} [${bar}] ${Math.floor((100 * done) / total)}% loss ${loss.toFixed(4)} acc ${(100 * accuracy).toFixed(2)}% ETA ${formatSeconds(left)}`,
    );
  }

  /** One line per finished epoch; `remainingEpochs` gives the overall time left. */
  endEpoch(epoch: number, text: string, remainingEpochs: number): void {
    if (!this.sink) return;
    const seconds = (performance.now() - this.epochStart) / 1000;
    const eta = remainingEpochs > 0 ? ` · ETA ${formatSeconds(seconds * remainingEpochs)}` : '';
    this.sink.write(`${this.tty ? '\r\x1b[2K' : ''}epoch ${epoch}/${this.epochs} ${text} · ${seconds.toFixed(1)}s${eta}\n`);
  }

  line(text: string): void {
    this.sink?.write(text + '\n');
  }
}
