import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigReader, ConfigurationError } from '@app/platform';
import { GROUP_PATTERN } from '@app/token-store';
import { compileExpression } from '../sources/item-mapper.js';
import type { RetryPolicy, SourceDefinition, SourceType } from '../sources/source-definition.js';

const TYPES: readonly SourceType[] = ['http', 'directory', 'postgres', 'amqp', 'websocket'];
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
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

type Raw = Record<string, unknown>;

/** A JSONata expression, compiled here so that a typo stops the start with the other problems. */
function expression(read: ConfigReader, field: string): string | undefined {
  const value = read.string(field);
  if (value === undefined) return undefined;
  try {
    compileExpression(field, value);
  } catch (error) {
    read.problem(field, (error as Error).message.slice(field.length + 2));
  }
  return value;
}

function retryPolicy(read: ConfigReader): RetryPolicy {
  return {
    attempts: read.integer('attempts', 5, { min: 1, max: 1_000 }),
    initialDelayMs: read.duration('initial_delay', '1s', { minMs: 1, maxMs: DAY_MS }),
    multiplier: read.number('multiplier', 2, { min: 1 }),
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
  const identity = ConfigReader.object(raw, where, problems, ['name', 'type']);
  if (name === undefined || !NAME.test(name)) identity.problem('name', `is required and must match ${NAME.source}`);
  const type = identity.required('type') as SourceType;
  if (!TYPES.includes(type)) {
    identity.problem('type', `must be one of ${TYPES.join(', ')}`);
    return undefined;
  }
  const read = ConfigReader.object(raw, where, problems, SOURCE_KEYS[type]);
  read.refuseUnknownKeys(A_SOURCE[type], (key) => {
    const owners = TYPES.filter((other) => SOURCE_KEYS[other].includes(key));
    return owners.length > 0 ? `${owners.join(', ')} sources` : undefined;
  });
  const common = {
    name: name ?? '',
    intervalMs: read.duration('interval', '10s', { minMs: 10, maxMs: DAY_MS }),
    retry: retryPolicy(read.section('retry', SECTION_KEYS.retry)),
    item: { id: expression(read, 'id'), map: expression(read, 'map'), groups: read.groups('groups', GROUP_PATTERN) },
  };
  switch (type) {
    case 'http': {
      const auth = read.section('auth', SECTION_KEYS.auth);
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
        url: read.requiredUrl('url', ['http:', 'https:']),
        method: method as 'GET' | 'POST',
        headers: read.stringMap('headers'),
        auth: bearerEnv ? { bearerEnv } : basicUserEnv && basicPasswordEnv ? { basicUserEnv, basicPasswordEnv } : undefined,
        items: expression(read, 'items'),
        timeoutMs: read.duration('timeout', '10s', { minMs: 100, maxMs: 10 * 60_000 }),
        maxBodyBytes: read.size('max_body', '16MiB', { min: '1KiB', max: '1GiB' }),
        maxItems: read.integer('max_items', 10_000, { min: 1, max: 1_000_000 }),
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
      return {
        ...common,
        type,
        urlEnv: read.envName('url_env', true) ?? '',
        queue: read.required('queue'),
        prefetch: read.integer('prefetch', 50, { min: 1, max: 10_000 }),
      };
    case 'websocket':
      return {
        ...common,
        type,
        url: read.requiredUrl('url', ['ws:', 'wss:']),
        headers: read.stringMap('headers'),
        headersEnv: read.stringMap('headers_env'),
        maxPending: read.integer('max_pending', 1_000, { min: 1, max: 100_000 }),
      };
  }
}

const HEADING = 'invalid sources file';

/**
 * Parses a sources file, YAML or JSON: a list of sources, or `{sources: [...]}`.
 * Every problem is collected, so that one edit fixes them all.
 */
export function parseSources(text: string, env: Readonly<Record<string, string | undefined>>): SourceDefinition[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigurationError([error instanceof YAMLParseError ? syntaxProblem(error) : `not valid YAML or JSON: ${(error as Error).message}`], HEADING);
  }
  const list = Array.isArray(document) ? document : (document as Raw | null)?.sources;
  if (!Array.isArray(list)) throw new ConfigurationError(['must be a list of sources, or an object with a "sources" list'], HEADING);
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
  if (problems.length > 0) throw new ConfigurationError(problems, HEADING);
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

/** The sources of the file at `path`, its problems added to those of `read`, each led by the path. */
export function readSourcesFile(read: ConfigReader, path: string, env: Readonly<Record<string, string | undefined>>): SourceDefinition[] {
  try {
    return loadSourcesFile(path, env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      for (const problem of error.problems) read.problem(path, problem);
    } else {
      read.problem(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return [];
  }
}
