import { readFileSync } from 'node:fs';
import { AddressList } from '../net/address-list.js';
import { ConfigurationError } from './configuration-error.js';

type Env = Readonly<Record<string, string | undefined>>;

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest delay Node's timers honour; a longer one fires after 1 ms. Every duration that feeds a timer stays at or below it. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `30d`, `12h`, `15m`, `90s`, `500ms`, or a bare number of seconds, in milliseconds; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
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

/**
 * Reads typed values out of an environment and collects every problem instead of
 * stopping at the first, so that an operator fixes a bad deployment in one go.
 * Values of secrets never appear in a problem.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const raw = this.env[name]?.trim();
    return raw === undefined || raw === '' ? fallback : raw;
  }

  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
      return this.fail(name, `must be a whole number from ${range.min} to ${range.max} (got "${raw}")`, fallback);
    }
    return value;
  }

  /**
   * A duration such as `30d`, `12h`, `90s` or `500ms`; a bare number is seconds. Returns milliseconds.
   * `maxMs` is required: a duration that feeds a timer must not exceed {@link MAX_TIMER_MS}.
   */
  duration(name: string, fallback: string, range: { minMs: number; maxMs: number }): number {
    const raw = this.string(name) ?? fallback;
    const ms = parseDuration(raw);
    if (ms === undefined || ms < range.minMs) {
      return this.fail(name, `must be a duration of at least ${range.minMs} ms such as 30d, 12h, 15m or 45s (got "${raw}")`, 0);
    }
    if (ms > range.maxMs) return this.fail(name, `must be at most ${formatDuration(range.maxMs)} (got "${raw}")`, 0);
    return ms;
  }

  /** A comma-separated list of CIDR blocks or single addresses. */
  addressList(name: string, fallback: string): AddressList {
    const raw = this.string(name) ?? fallback;
    try {
      return AddressList.parse(raw);
    } catch (error) {
      return this.fail(name, (error as Error).message, AddressList.parse(''));
    }
  }

  url(name: string, protocols: readonly string[]): URL | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || !protocols.includes(url.protocol)) {
      // the URL may carry a password, so it is never echoed
      return this.fail(name, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, undefined);
    }
    return url;
  }

  /** A comma-separated list of e-mail addresses. */
  emailList(name: string): string[] {
    const list = (this.string(name) ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    const bad = list.find((entry) => !EMAIL.test(entry));
    if (bad !== undefined) return this.fail(name, `"${bad}" is not an e-mail address`, []);
    return list;
  }

  email(name: string, fallback: string): string {
    const raw = this.string(name) ?? fallback;
    return EMAIL.test(raw) ? raw : this.fail(name, `"${raw}" is not an e-mail address`, fallback);
  }

  secret(name: string, minLength: number): string | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return undefined;
    if (raw.length < minLength) return this.fail(name, `must be at least ${minLength} characters long`, undefined);
    return raw;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.string(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      return this.fail(name, `must be one of ${allowed.join(', ')} (got "${raw}")`, fallback);
    }
    return raw as T;
  }

  /** Reads a file named by a variable; a missing or unreadable file is a problem. */
  file(name: string): Buffer | undefined {
    const path = this.string(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      return this.fail(name, `cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`, undefined);
    }
  }

  problem(name: string, text: string): void {
    this.problems.push(`${name}: ${text}`);
  }

  /** Throws a ConfigurationError listing every problem found, if any. */
  finish(): void {
    if (this.problems.length > 0) throw new ConfigurationError(this.problems);
  }

  private fail<T>(name: string, text: string, fallback: T): T {
    this.problem(name, text);
    return fallback;
  }
}
