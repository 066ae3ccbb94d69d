import { readFileSync } from 'node:fs';
import { AddressList } from '../net/address-list.js';
import { closestKey } from './closest-key.js';
import { ConfigurationError } from './configuration-error.js';
import { formatDuration, parseDuration } from './duration.js';

type Raw = Readonly<Record<string, unknown>>;

const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;
const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1_024, MiB: 1_048_576, GiB: 1_073_741_824 };

/** A value as a problem quotes it; only ever for values that are not secrets. */
function quoted(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? `"${String(value).trim()}"` : JSON.stringify(value);
}

function bytes(value: unknown): number | undefined {
  const match = typeof value === 'string' || typeof value === 'number' ? SIZE.exec(String(value).trim()) : null;
  return match ? Number(match[1]) * UNIT_BYTES[match[2] ?? 'B'] : undefined;
}

/**
 * The one schema layer of the configuration: typed fields read out of the environment or out of
 * one object of a file (sources.yaml), with one grammar per kind of value. Every problem is
 * collected instead of stopping at the first, so that an operator fixes a bad deployment in one go;
 * `finish()` throws them all as one ConfigurationError. Values of secrets never appear in a problem.
 */
export class ConfigReader {
  private constructor(
    private readonly raw: Raw,
    /** Leads every problem's field: `sources[0] (orders).`; empty for the environment. */
    private readonly prefix: string,
    private readonly problems: string[],
    /** The keys an object of a file takes; undefined for the environment, which holds anything. */
    private readonly known: readonly string[] | undefined,
  ) {}

  /** Variables: every value is text; an empty or blank one counts as unset. */
  static env(env: Readonly<Record<string, string | undefined>>): ConfigReader {
    return new ConfigReader(env, '', [], undefined);
  }

  /**
   * One object of a file, its problems led by `where` and added to `problems` (shared by the
   * readers of one file). Reading a key not in `known` is a programming error.
   */
  static object(raw: Raw, where: string, problems: string[], known: readonly string[]): ConfigReader {
    return new ConfigReader(raw, `${where}.`, problems, known);
  }

  private get isEnv(): boolean {
    return this.known === undefined;
  }

  /** Every variable, for a file that names variables holding credentials (the variables are read where they are used). */
  environment(): Readonly<Record<string, string | undefined>> {
    if (!this.isEnv) throw new Error(`${this.prefix.slice(0, -1)} is not the environment`);
    return this.raw as Readonly<Record<string, string | undefined>>;
  }

  problem(name: string, text: string): void {
    this.problems.push(`${this.prefix}${name}: ${text}`);
  }

  /** Throws a ConfigurationError listing every problem found, if any. */
  finish(heading?: string): void {
    if (this.problems.length > 0) throw new ConfigurationError([...this.problems], heading);
  }

  /** Every read goes through here, so that a key read but missing from `known` fails every spec that reads it. */
  value(name: string): unknown {
    if (this.known !== undefined && !this.known.includes(name)) throw new Error(`${name} is read but not among the known keys of ${this.prefix.slice(0, -1)}`);
    const value = this.raw[name];
    if (value === null) return undefined;
    if (this.isEnv && typeof value === 'string' && value.trim() === '') return undefined;
    return value;
  }

  /** Text, trimmed in the environment; in a file anything but a non-empty string is a problem. */
  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const value = this.value(name);
    if (value === undefined) return fallback;
    if (this.isEnv) return (value as string).trim();
    if (typeof value !== 'string' || value.trim() === '') return this.fail(name, 'must be a non-empty string', fallback);
    return value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) this.problem(name, 'is required');
    return value ?? '';
  }

  /** True when the variable is set at all, whatever its value (`NO_COLOR=1`). */
  flag(name: string): boolean {
    return this.value(name) !== undefined;
  }

  /** A whole number, as text or as a YAML number. */
  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    const value = this.value(name);
    if (value === undefined) return fallback;
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(number) || number < range.min || number > range.max) {
      return this.fail(name, `must be a whole number from ${range.min} to ${range.max} (got ${quoted(value)})`, fallback);
    }
    return number;
  }

  number(name: string, fallback: number, range: { min: number }): number {
    const value = this.value(name) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min)
      return this.fail(name, `must be a number of at least ${range.min}`, fallback);
    return value;
  }

  /**
   * A duration in the one grammar ({@link parseDuration}), in milliseconds. `maxMs` is required:
   * a duration that feeds a timer must not exceed MAX_TIMER_MS. The fallback is checked too, so
   * that a wrong default cannot slip through.
   */
  duration(name: string, fallback: string, range: { minMs: number; maxMs: number }): number {
    const value = this.value(name) ?? fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms < range.minMs) {
      return this.fail(name, `must be a duration of at least ${range.minMs} ms such as 30d, 12h, 15m or 45s (got ${quoted(value)})`, range.minMs);
    }
    if (ms > range.maxMs) return this.fail(name, `must be at most ${formatDuration(range.maxMs)} (got ${quoted(value)})`, range.maxMs);
    return ms;
  }

  /** `16MiB`, `512KiB`, `1GiB`, or a bare number of bytes; returns bytes. */
  size(name: string, fallback: string, range: { min: string; max: string }): number {
    const value = bytes(this.value(name) ?? fallback);
    if (value === undefined || value < bytes(range.min)! || value > bytes(range.max)!) {
      return this.fail(name, `must be a size such as 512KiB or 16MiB, from ${range.min} to ${range.max}`, bytes(fallback)!);
    }
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.string(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) return this.fail(name, `must be one of ${allowed.join(', ')} (got ${quoted(value)})`, fallback);
    return value as T;
  }

  /** A URL with one of `protocols`; undefined when unset. The URL may carry a password, so it is never echoed. */
  url(name: string, protocols: readonly string[]): URL | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (url && protocols.includes(url.protocol)) return url;
    return this.fail(name, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, undefined);
  }

  /** As {@link url}, and a problem when unset; a placeholder stands in for a bad one until `finish()` throws. */
  requiredUrl(name: string, protocols: readonly string[]): URL {
    if (this.string(name) === undefined) this.problem(name, 'is required');
    return this.url(name, protocols) ?? new URL(`${protocols[0]}//invalid.invalid`);
  }

  /** A comma-separated list of CIDR blocks or single addresses. */
  addressList(name: string, fallback: string): AddressList {
    try {
      return AddressList.parse(this.string(name) ?? fallback);
    } catch (error) {
      return this.fail(name, (error as Error).message, AddressList.parse(''));
    }
  }

  /** A comma-separated list of e-mail addresses. */
  emailList(name: string): string[] {
    const list = (this.string(name) ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const bad = list.find((entry) => !EMAIL.test(entry));
    if (bad !== undefined) return this.fail(name, `"${bad}" is not an e-mail address`, []);
    return list;
  }

  email(name: string, fallback: string): string {
    const value = this.string(name) ?? fallback;
    return EMAIL.test(value) ? value : this.fail(name, `"${value}" is not an e-mail address`, fallback);
  }

  /** Taken as given, untrimmed; never echoed. */
  secret(name: string, minLength: number): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return this.fail(name, 'must be a string', undefined);
    if (value.length < minLength) return this.fail(name, `must be at least ${minLength} characters long`, undefined);
    return value;
  }

  /** The name of an environment variable (a file names the variable that holds a credential, never the credential). */
  envName(name: string, required: boolean): string | undefined {
    const value = required ? this.required(name) : this.string(name);
    if (value === undefined || value === '') return undefined;
    return ENV_NAME.test(value) ? value : this.fail(name, 'must name an environment variable', undefined);
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

  /** A list of group names, each matching `pattern`. */
  groups(name: string, pattern: RegExp): string[] | undefined {
    const value = this.value(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !pattern.test(v)))
      return this.fail(name, 'must be a list of group names', undefined);
    return value as string[];
  }

  stringMap(name: string): Record<string, string> {
    const value = this.value(name);
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      return this.fail(name, 'must map names to strings', {});
    }
    return value as Record<string, string>;
  }

  /** The object under `name` as a reader of its own, its unknown keys reported. */
  section(name: string, known: readonly string[]): ConfigReader {
    const value = this.value(name);
    let raw: Raw = {};
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) raw = value as Raw;
    else if (value !== undefined) this.problem(name, 'must be an object');
    const reader = ConfigReader.object(raw, `${this.prefix}${name}`, this.problems, known);
    reader.refuseUnknownKeys(name);
    return reader;
  }

  /**
   * Reports each key not in `known`, with the key it most likely meant; `elsewhere` names, for a
   * key that other kinds of object take, which ones (`directory sources`).
   */
  refuseUnknownKeys(what: string, elsewhere: (key: string) => string | undefined = () => undefined): void {
    const known = this.known ?? [];
    for (const key of Object.keys(this.raw)) {
      if (known.includes(key)) continue;
      const meant = closestKey(key, known);
      const owners = meant === undefined ? elsewhere(key) : undefined;
      this.problem(
        key,
        meant !== undefined
          ? `unknown key, did you mean "${meant}"?`
          : owners !== undefined
            ? `unknown key: ${key} is for ${owners}, not ${what}`
            : `unknown key; ${what} takes ${known.join(', ')}`,
      );
    }
  }

  private fail<T>(name: string, text: string, fallback: T): T {
    this.problem(name, text);
    return fallback;
  }
}
