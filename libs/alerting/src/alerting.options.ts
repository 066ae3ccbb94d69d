import type { Clock } from '@app/platform';

export const ALERTING_OPTIONS = Symbol('ALERTING_OPTIONS');

export interface AlertingOptions {
  /** Named in every subject: `[experience-api] …`. */
  readonly app: string;
  readonly instanceId: string;
  /** `smtp://` (STARTTLS when offered) or `smtps://`; undefined: alerts are logged only. */
  readonly smtpUrl?: URL;
  /** Extra CA certificates to trust for the SMTP server, PEM. */
  readonly smtpCa?: Buffer;
  readonly to: readonly string[];
  readonly from: string;
  /** Repeats of a kind inside this window fold into one digest. */
  readonly foldWindowMs: number;
  /** No more mails than this in any hour; the rest are counted and the count is mailed later. */
  readonly maxMailsPerHour: number;
  /** Mails waiting for the SMTP server; beyond it the oldest is dropped. */
  readonly queueLimit?: number;
  /** Backoff between attempts while the SMTP server is unreachable. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Times fold windows and retries; the system clock when not given. */
  readonly clock?: Clock;
}
