const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest delay Node's timers honour; a longer one fires after 1 ms. Every duration that feeds a timer stays at or below it. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The one duration grammar of the environment and of sources.yaml: `30d`, `12h`, `15m`, `90s`,
 * `500ms`, or a bare whole number of seconds (a YAML number too), in milliseconds; undefined when it is none of those.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const match = DURATION.exec(String(value).trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] ?? 's'] : NaN;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration in the largest unit that states it exactly, for messages: `24h`, `90s`, `2147483647ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
