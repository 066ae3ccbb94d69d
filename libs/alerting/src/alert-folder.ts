import { systemClock, type Clock, type TimerHandle } from '@app/platform';
import type { Alert, AlertSeverity } from './alert.js';
import type { AlertMail } from './alert-mail.js';
import { redact } from './redact.js';

const MAX_VALUES_PER_DETAIL = 500;
const TOP = 5;

interface Window {
  readonly startedAt: Date;
  severity: AlertSeverity;
  subject: string;
  /** Alerts in this window, the one mailed at once included. */
  count: number;
  /** The window's first alert went out at once (not so in the windows that follow a busy one). */
  readonly firstMailed: boolean;
  readonly values: Map<string, Map<string, number>>;
  timer: TimerHandle;
}

export interface FolderContext {
  readonly app: string;
  readonly instanceId: string;
  readonly windowMs: number;
  /** Times the windows and stamps the mails; the system clock when not given. */
  readonly clock?: Clock;
}

function minutes(ms: number): string {
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${ms / 1_000} seconds`;
}

/**
 * Folds repeats of an alert kind: the first of a kind is mailed at once, the
 * ones that follow inside the window are counted and mailed as one digest when
 * it closes. While a kind keeps firing, it yields one digest per window, never
 * a mail per event.
 */
export class AlertFolder {
  private readonly windows = new Map<string, Window>();
  private readonly clock: Clock;

  constructor(
    private readonly context: FolderContext,
    private readonly emit: (mail: AlertMail) => void,
  ) {
    this.clock = context.clock ?? systemClock;
  }

  add(alert: Alert): void {
    const window = this.windows.get(alert.kind);
    if (window) {
      window.count++;
      window.severity = alert.severity;
      this.tally(window, alert);
      return;
    }
    this.open(alert.kind, alert, true);
    this.emit(this.single(alert));
  }

  /** Closes the kind's window now, mailing its digest if it has one. */
  close(kind: string): void {
    const window = this.windows.get(kind);
    if (!window) return;
    this.clock.clearTimer(window.timer);
    this.windows.delete(kind);
    const repeats = window.firstMailed ? window.count - 1 : window.count;
    if (repeats > 0) this.emit(this.digest(window));
  }

  /** Closes every window, mailing what they hold; for shutdown. */
  closeAll(): void {
    for (const kind of [...this.windows.keys()]) this.close(kind);
  }

  /** A mail that stands alone, outside any fold: a condition that cleared. */
  resolved(subject: string, since: Date | undefined): AlertMail {
    const now = this.now();
    return {
      subject: `[${this.context.app}] resolved: ${subject}`,
      text: [`resolved: ${subject}`, '', ...this.header('resolved', now), ...(since ? [`alerting since: ${since.toISOString()}`] : [])].join('\n'),
    };
  }

  private open(kind: string, alert: Alert | Window, firstMailed: boolean): void {
    const window: Window = {
      startedAt: this.now(),
      severity: alert.severity,
      subject: alert.subject,
      count: firstMailed ? 1 : 0,
      firstMailed,
      values: new Map(),
      timer: this.clock.setTimer(() => this.expire(kind), this.context.windowMs),
    };
    if ('kind' in alert) this.tally(window, alert);
    this.windows.set(kind, window);
  }

  private expire(kind: string): void {
    const window = this.windows.get(kind);
    if (!window) return;
    const busy = (window.firstMailed ? window.count - 1 : window.count) > 0;
    this.close(kind);
    // a kind still firing keeps folding: its next alert waits for the next digest
    if (busy) this.open(kind, window, false);
  }

  private tally(window: Window, alert: Alert): void {
    for (const [key, raw] of Object.entries(alert.details ?? {})) {
      const value = redact(key, raw);
      if (value === undefined) continue;
      let counts = window.values.get(key);
      if (!counts) window.values.set(key, (counts = new Map()));
      const slot = counts.has(value) || counts.size < MAX_VALUES_PER_DETAIL ? value : '(others)';
      counts.set(slot, (counts.get(slot) ?? 0) + 1);
    }
  }

  private single(alert: Alert): AlertMail {
    const details = Object.entries(alert.details ?? {})
      .map(([key, value]) => [key, redact(key, value)] as const)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}: ${value}`);
    return {
      subject: `[${this.context.app}] ${alert.subject}`,
      text: [alert.subject, '', ...this.header(alert.severity, this.now()), '', ...details].join('\n'),
    };
  }

  private digest(window: Window): AlertMail {
    const span = minutes(this.context.windowMs);
    const now = this.now();
    const lines = [...window.values].map(([key, counts]) => {
      const top = [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, TOP)
        .map(([value, count]) => `${value} (${count})`)
        .join(', ');
      return `${key}: ${counts.size} distinct; top: ${top}`;
    });
    const summary = `${window.count} ${window.subject} in the last ${span}`;
    return {
      subject: `[${this.context.app}] ${summary}`,
      text: [
        `${summary}, from ${window.startedAt.toISOString()} to ${now.toISOString()}` + (window.firstMailed ? '; the first was mailed on its own.' : '.'),
        '',
        ...this.header(window.severity, now),
        `count: ${window.count}`,
        '',
        ...lines,
      ].join('\n'),
    };
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private header(severity: string, time: Date): string[] {
    return [`severity: ${severity}`, `app: ${this.context.app}`, `instance: ${this.context.instanceId}`, `time: ${time.toISOString()}`];
  }
}
