export type AlertSeverity = 'critical' | 'error' | 'warning';

/** Something DevOps must hear about. */
export interface Alert {
  /** Alerts of one kind fold together; resolving a condition names its kind. */
  readonly kind: string;
  readonly severity: AlertSeverity;
  /** What happened, as a plural noun phrase: "refused handshakes", "database unreachable". */
  readonly subject: string;
  /** Ids and facts worth seeing; a digest counts the values of each. Never tokens or secrets. */
  readonly details?: Readonly<Record<string, string | number | null | undefined>>;
}
