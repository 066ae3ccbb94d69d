import { type Clock, systemClock, type TimerHandle } from '@app/platform';

/** Where refusal lines go: a Nest Logger in the app. */
export interface WarningSink {
  warn(message: string): void;
}

/**
 * Logs refused handshakes without letting a flood of them become a flood of
 * log lines (each one a formatted, synchronous write on the event loop): the
 * first `perPeriod` refusals of each period are logged one by one, and the
 * rest are counted into one line, by reason, when the period ends.
 */
export class RefusalLog {
  private logged = 0;
  private readonly unlogged = new Map<string, number>();
  private timer?: TimerHandle;

  constructor(
    private readonly sink: WarningSink,
    private readonly perPeriod = 10,
    private readonly periodMs = 1_000,
    private readonly clock: Clock = systemClock,
  ) {}

  refused(remoteAddress: string, reason: string, clientId: string | undefined): void {
    this.timer ??= this.clock.setTimer(() => this.endPeriod(), this.periodMs);
    if (this.logged < this.perPeriod) {
      this.logged++;
      this.sink.warn(`refused handshake from ${remoteAddress}: ${reason} (client_id ${clientId ?? '-'})`);
      return;
    }
    this.unlogged.set(reason, (this.unlogged.get(reason) ?? 0) + 1);
  }

  /** Writes the count of what was not logged one by one, and starts a new period. */
  private endPeriod(): void {
    this.timer = undefined;
    this.logged = 0;
    if (this.unlogged.size === 0) return;
    const counts = [...this.unlogged].sort((a, b) => b[1] - a[1]);
    const total = counts.reduce((sum, [, count]) => sum + count, 0);
    this.unlogged.clear();
    this.sink.warn(
      `refused handshakes: ${total} more in the last ${this.periodMs / 1_000} s not logged one by one (${counts.map(([reason, count]) => `${reason} ${count}`).join(', ')})`,
    );
  }
}
