import type { Alert, AlertSeverity } from './alert.js';
import { redact } from './redact.js';

/** One kind of alert as an operator sees it: how often it was raised, when, and whether it still holds. */
export interface AlertKindSummary {
  readonly kind: string;
  readonly severity: AlertSeverity;
  readonly subject: string;
  /** Raised while this condition lasted (since it was first raised or last resolved). */
  readonly count: number;
  readonly first_at: string;
  readonly last_at: string;
  /** Whether the condition still holds: raised and not resolved since. */
  readonly active: boolean;
  /** When it was last resolved, if it was. */
  readonly resolved_at: string | null;
  /** The last raise's details, redacted as in a mail. */
  readonly details: Readonly<Record<string, string>>;
}

interface Entry {
  severity: AlertSeverity;
  subject: string;
  count: number;
  firstAt: number;
  lastAt: number;
  active: boolean;
  resolvedAt: number | null;
  details: Record<string, string>;
}

/**
 * The alerts of the last while, one line per kind, for the operator console:
 * bounded to `limit` kinds (the least recently raised goes first), so that
 * whatever raises alerts cannot grow it.
 */
export class RecentAlerts {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limit = 100) {}

  raised(alert: Alert, at: number): void {
    const details: Record<string, string> = {};
    for (const [key, value] of Object.entries(alert.details ?? {})) {
      const shown = redact(key, value);
      if (shown !== undefined) details[key] = shown.slice(0, 200);
    }
    const earlier = this.entries.get(alert.kind);
    this.entries.delete(alert.kind);
    const fresh = earlier === undefined || !earlier.active;
    this.entries.set(alert.kind, {
      severity: alert.severity,
      subject: alert.subject,
      count: fresh ? 1 : earlier.count + 1,
      firstAt: fresh ? at : earlier.firstAt,
      lastAt: at,
      active: true,
      resolvedAt: earlier?.resolvedAt ?? null,
      details,
    });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }

  resolved(kind: string, at: number): void {
    const entry = this.entries.get(kind);
    if (entry === undefined) return;
    entry.active = false;
    entry.resolvedAt = at;
  }

  /** Newest first. */
  list(): AlertKindSummary[] {
    return [...this.entries]
      .map(([kind, entry]) => ({
        kind,
        severity: entry.severity,
        subject: entry.subject,
        count: entry.count,
        first_at: new Date(entry.firstAt).toISOString(),
        last_at: new Date(entry.lastAt).toISOString(),
        active: entry.active,
        resolved_at: entry.resolvedAt === null ? null : new Date(entry.resolvedAt).toISOString(),
        details: entry.details,
      }))
      .sort((a, b) => (a.last_at < b.last_at ? 1 : a.last_at > b.last_at ? -1 : 0));
  }
}
