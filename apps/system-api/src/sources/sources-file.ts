import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { formatDuration, parseDuration } from '@app/platform';
import { closestKey } from './closest-key.js';
import { compileExpression } from './item-mapper.js';
import type { RetryPolicy, SourceDefinition, SourceType } from './source-definition.js';

const TYPES: readonly SourceType[] = ['http', 'directory', 'postgres', 'amqp', 'websocket'];
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SIZE = /^(\d+)\s*(B|KiB|MiB|GiB)?$/;
const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1_024, MiB: 1_048_576, GiB: 1_073_741_824 };
/** The longest wait a source may ask for; every source duration feeds a timer, which Node caps at 2^31-1 ms. */
const DAY_MS = 86_400_000;

const COMMON_KEYS = ['name', 'type', 'interval', 'retry', 'id', 'map', 'groups'] as const;

/** The keys each source type takes; any other key is refused, so that a typo never runs on a default. */
export const SOURCE_KEYS: Readonly<Record<SourceType, readonly string[]>> = {
  http: [...COMMON_KEYS, 'url', 'method', 'headers', 'auth', 'items', 'timeout', 'max_body', 'max_items'],
  directory: [...COMMON_KEYS, 'path', 'settle'],
  postgres: [...COMMON_KEYS, 'url_env', 'query', 'cursor', 'initial_cursor'],
  amqp: [...COMMON_KEYS, 'url_env', 'queue', 'prefetch'],
  websocket: [...COMMON_KEYS, 'url', 'headers', 'headers_env', 'max_pending'],
};

/** The keys of a source's sections; `headers` and `headers_env` are not here: they map any header name. */
export const SECTION_KEYS = {
  retry: ['attempts', 'initial_delay', 'multiplier', 'max_delay'],
  auth: ['bearer_env', 'basic_user_env', 'basic_password_env'],
} as const satisfies Record<string, readonly string[]>;

/** The sources file cannot be used; one problem per line, each naming the source and field (a YAML error adds its excerpt below). */
export class SourcesFileError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid sources file:\n${problems.map((p) => `  ${p.replaceAll('\n', '\n  ')}`).join('\n')}`);
    this.name = 'SourcesFileError';
  }
}

type Raw = Record<string, unknown>;

function milliseconds(value: unknown): number | undefined {
  return typeof value === 'string' || typeof value === 'number' ? parseDuration(String(value)) : undefined;
}

/** Reads one source's fields, collecting problems that name the source and the field. */
class FieldReader {
  constructor(
    private readonly raw: Raw,
    private readonly where: string,
    private readonly problems: string[],
    private readonly known: readonly string[],
  ) {}

  problem(field: string, text: string): void {
    this.problems.push(`${this.where}.${field}: ${text}`);
  }

  /** Every read goes through here, so that a key read but missing from `known` fails every spec that reads it. */
  value(field: string): unknown {
    if (!this.known.includes(field)) throw new Error(`${field} is read but not among the known keys of ${this.where}`);
    return this.raw[field];
  }

  /**
   * Reports each key not in `known`, with the key it most likely meant; `elsewhere` names, for a key
   * other source types take, which ones.
   */
  refuseUnknownKeys(what: string, elsewhere: (key: string) => string | undefined = () => undefined): void {
    for (const key of Object.keys(this.raw)) {
      if (this.known.includes(key)) continue;
      const meant = closestKey(key, this.known);
      const owners = meant === undefined ? elsewhere(key) : undefined;
      this.problem(
        key,
        meant !== undefined
          ? `unknown key, did you mean "${meant}"?`
          : owners !== undefined
            ? `unknown key: ${key} is for ${owners} sources, not ${what}`
            : `unknown key; ${what} takes ${this.known.join(', ')}`,
      );
    }
  }

  string(field: string): string | undefined;
  string(field: string, fallback: string): string;
  string(field: string, fallback?: string): string | undefined {
    const value = this.value(field);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' || value.trim() === '') {
      this.problem(field, 'must be a non-empty string');
      return fallback;
    }
    return value;
  }

  required(field: string): string {
    const value = this.string(field);
    if (value === undefined) this.problem(field, 'is required');
    return value ?? '';
  }

  /** The name of an environment variable; undefined (after a problem) when it is not one. */
  envName(field: string, required: boolean): string | undefined {
    const value = required ? this.required(field) : this.string(field);
    if (value === undefined || value === '') return undefined;
    if (!ENV_NAME.test(value)) {
      this.problem(field, 'must name an environment variable');
      return undefined;
    }
    return value;
  }

  /** A JSONata expression, compiled here so that a typo stops the start with the others. */
  expression(field: string): string | undefined {
    const value = this.string(field);
    if (value === undefined) return undefined;
    try {
      compileExpression(field, value);
    } catch (error) {
      this.problem(field, (error as Error).message.slice(field.length + 2));
    }
    return value;
  }

  /** `500ms`, `10s`, `5m`, `1h`, `1d`, or a bare number of seconds; returns milliseconds, within `minMs` and `maxMs`. */
  duration(field: string, fallback: string, range: { minMs: number; maxMs: number }): number {
    const ms = milliseconds(this.value(field) ?? fallback);
    if (ms === undefined || ms < range.minMs || ms > range.maxMs) {
      this.problem(field, `must be a duration such as 500ms, 10s or 5m, from ${range.minMs} ms to ${formatDuration(range.maxMs)}`);
      return milliseconds(fallback) ?? range.minMs;
    }
    return ms;
  }

  /** `16MiB`, `512KiB`, `1GiB`, or a bare number of bytes; returns bytes. */
  size(field: string, fallback: string, range: { min: string; max: string }): number {
    const bytes = (text: unknown) => {
      const match = typeof text === 'string' || typeof text === 'number' ? SIZE.exec(String(text).trim()) : null;
      return match ? Number(match[1]) * UNIT_BYTES[match[2] ?? 'B'] : undefined;
    };
    const value = bytes(this.value(field) ?? fallback);
    if (value === undefined || value < bytes(range.min)! || value > bytes(range.max)!) {
      this.problem(field, `must be a size such as 512KiB or 16MiB, from ${range.min} to ${range.max}`);
      return bytes(fallback)!;
    }
    return value;
  }

  integer(field: string, fallback: number, min: number, max: number): number {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(field, `must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  number(field: string, fallback: number, min: number): number {
    const value = this.value(field) ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      this.problem(field, `must be a number of at least ${min}`);
      return fallback;
    }
    return value;
  }

  url(field: string, protocols: readonly string[]): URL {
    const value = this.required(field);
    try {
      const url = new URL(value);
      if (protocols.includes(url.protocol)) return url;
    } catch {
      // reported below
    }
    if (value !== '') this.problem(field, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    return new URL(`${protocols[0]}//invalid.invalid`);
  }

  stringMap(field: string): Record<string, string> {
    const value = this.value(field);
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
      this.problem(field, 'must map names to strings');
      return {};
    }
    return value as Record<string, string>;
  }

  stringList(field: string): string[] | undefined {
    const value = this.value(field);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !/^[A-Za-z0-9._:/-]{1,64}$/.test(v))) {
      this.problem(field, 'must be a list of group names');
      return undefined;
    }
    return value as string[];
  }

  object(field: string): Raw {
    const value = this.value(field);
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problem(field, 'must be an object');
      return {};
    }
    return value as Raw;
  }

  /** The section `field`, its unknown keys reported. */
  section(field: keyof typeof SECTION_KEYS): FieldReader {
    const reader = new FieldReader(this.object(field), `${this.where}.${field}`, this.problems, SECTION_KEYS[field]);
    reader.refuseUnknownKeys(field);
    return reader;
  }
}

function retryPolicy(read: FieldReader): RetryPolicy {
  return {
    attempts: read.integer('attempts', 5, 1, 1_000),
    initialDelayMs: read.duration('initial_delay', '1s', { minMs: 1, maxMs: DAY_MS }),
    multiplier: read.number('multiplier', 2, 1),
    maxDelayMs: read.duration('max_delay', '60s', { minMs: 1, maxMs: DAY_MS }),
  };
}

const A_SOURCE: Readonly<Record<SourceType, string>> = {
  http: 'an http source',
  directory: 'a directory source',
  postgres: 'a postgres source',
  amqp: 'an amqp source',
  websocket: 'a websocket source',
};

function definition(raw: Raw, index: number, problems: string[]): SourceDefinition | undefined {
  const name = typeof raw.name === 'string' ? raw.name : undefined;
  const where = `sources[${index}]${name ? ` (${name})` : ''}`;
  const identity = new FieldReader(raw, where, problems, ['name', 'type']);
  if (name === undefined || !NAME.test(name)) identity.problem('name', `is required and must match ${NAME.source}`);
  const type = identity.required('type') as SourceType;
  if (!TYPES.includes(type)) {
    identity.problem('type', `must be one of ${TYPES.join(', ')}`);
    return undefined;
  }
  const read = new FieldReader(raw, where, problems, SOURCE_KEYS[type]);
  read.refuseUnknownKeys(A_SOURCE[type], (key) => {
    const owners = TYPES.filter((other) => SOURCE_KEYS[other].includes(key));
    return owners.length > 0 ? owners.join(', ') : undefined;
  });
  const common = {
    name: name ?? '',
    intervalMs: read.duration('interval', '10s', { minMs: 10, maxMs: DAY_MS }),
    retry: retryPolicy(read.section('retry')),
    item: { id: read.expression('id'), map: read.expression('map'), groups: read.stringList('groups') },
  };
  switch (type) {
    case 'http': {
      const auth = read.section('auth');
      const bearerEnv = auth.envName('bearer_env', false);
      const basicUserEnv = auth.envName('basic_user_env', false);
      const basicPasswordEnv = auth.envName('basic_password_env', false);
      if ((basicUserEnv === undefined) !== (basicPasswordEnv === undefined)) {
        auth.problem('basic_user_env', 'basic_user_env and basic_password_env go together');
      }
      const method = read.string('method', 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'POST') read.problem('method', 'must be GET or POST');
      return {
        ...common,
        type,
        url: read.url('url', ['http:', 'https:']),
        method: method as 'GET' | 'POST',
        headers: read.stringMap('headers'),
        auth: bearerEnv ? { bearerEnv } : basicUserEnv && basicPasswordEnv ? { basicUserEnv, basicPasswordEnv } : undefined,
        items: read.expression('items'),
        timeoutMs: read.duration('timeout', '10s', { minMs: 100, maxMs: 10 * 60_000 }),
        maxBodyBytes: read.size('max_body', '16MiB', { min: '1KiB', max: '1GiB' }),
        maxItems: read.integer('max_items', 10_000, 1, 1_000_000),
      };
    }
    case 'directory':
      return { ...common, type, path: read.required('path'), settleMs: read.duration('settle', '1s', { minMs: 0, maxMs: DAY_MS }) };
    case 'postgres': {
      const cursor = read.value('initial_cursor') ?? 0;
      if (typeof cursor !== 'string' && typeof cursor !== 'number') read.problem('initial_cursor', 'must be a string or a number');
      return {
        ...common,
        type,
        urlEnv: read.envName('url_env', true) ?? '',
        query: read.required('query'),
        cursorColumn: read.required('cursor'),
        initialCursor: typeof cursor === 'string' || typeof cursor === 'number' ? cursor : 0,
      };
    }
    case 'amqp':
      return { ...common, type, urlEnv: read.envName('url_env', true) ?? '', queue: read.required('queue'), prefetch: read.integer('prefetch', 50, 1, 10_000) };
    case 'websocket':
      return { ...common, type, url: read.url('url', ['ws:', 'wss:']), headers: read.stringMap('headers'), headersEnv: read.stringMap('headers_env'), maxPending: read.integer('max_pending', 1_000, 1, 100_000) };
  }
}

/**
 * Parses a sources file, YAML or JSON: a list of sources, or `{sources: [...]}`.
 * Every problem is collected, so that one edit fixes them all.
 */
export function parseSources(text: string, env: Readonly<Record<string, string | undefined>>): SourceDefinition[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new SourcesFileError([error instanceof YAMLParseError ? syntaxProblem(error) : `not valid YAML or JSON: ${(error as Error).message}`]);
  }
  const list = Array.isArray(document) ? document : (document as Raw | null)?.sources;
  if (!Array.isArray(list)) throw new SourcesFileError(['must be a list of sources, or an object with a "sources" list']);
  const problems: string[] = [];
  if (!Array.isArray(document)) {
    for (const key of Object.keys(document as Raw).filter((key) => key !== 'sources')) problems.push(`${key}: unknown key; the file holds only "sources"`);
  }
  const sources = list.flatMap((raw, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`sources[${index}]: must be an object with a name and a type`);
      return [];
    }
    const source = definition(raw as Raw, index, problems);
    return source ? [source] : [];
  });
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.name)) problems.push(`sources: the name "${source.name}" is used twice`);
    seen.add(source.name);
    for (const variable of requiredEnv(source)) {
      if (!env[variable]) problems.push(`sources (${source.name}): environment variable ${variable} is not set`);
    }
  }
  if (problems.length > 0) throw new SourcesFileError(problems);
  return sources;
}

/**
 * `line L, column C: not valid YAML or JSON: <reason>`, then the `yaml` library's excerpt (the
 * line, the one before it when the error is at its start, and carets), indented under it.
 */
function syntaxProblem(error: YAMLParseError): string {
  const start = error.linePos?.[0];
  const where = start && `line ${start.line}, column ${start.col}`;
  // yaml writes "<reason> at line L, column C", then, when that line has text, ":", a blank line, the excerpt and the carets
  const [head, ...rest] = error.message.split('\n');
  const located = head.replace(/:$/, '');
  if (!where || !located.endsWith(` at ${where}`)) return `not valid YAML or JSON: ${error.message}`;
  const reason = located.slice(0, -` at ${where}`.length);
  const excerpt = rest.slice(1, -1).map((line) => (line === '' ? '' : `    ${line.replace(/\r$/, '')}`));
  return [`${where}: not valid YAML or JSON: ${reason}`, ...excerpt].join('\n');
}

function requiredEnv(source: SourceDefinition): string[] {
  return namedEnv(source).filter((name) => name !== '');
}

function namedEnv(source: SourceDefinition): string[] {
  switch (source.type) {
    case 'http':
      return source.auth === undefined ? [] : 'bearerEnv' in source.auth ? [source.auth.bearerEnv] : [source.auth.basicUserEnv, source.auth.basicPasswordEnv];
    case 'postgres':
    case 'amqp':
      return [source.urlEnv];
    case 'websocket':
      return Object.values(source.headersEnv);
    default:
      return [];
  }
}

export function loadSourcesFile(path: string, env: Readonly<Record<string, string | undefined>>): SourceDefinition[] {
  return parseSources(readFileSync(path, 'utf8'), env);
}
