import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '@app/platform';
import { ItemMapper } from '../sources/item-mapper.js';
import { createSource } from '../sources/source-factory.js';
import type { SourceDefinition, SourceType } from '../sources/source-definition.js';
import { loadSourcesFile, parseSources, SECTION_KEYS, SOURCE_KEYS } from './sources-file.js';

const ENV = {
  FEED_TOKEN: 'token-value',
  FEED_USER: 'user',
  FEED_PASSWORD: 'password-value',
  ORDERS_DB_URL: 'postgres://reader@db/orders',
  RABBIT_URL: 'amqp://guest:guest@mq',
  FEED_KEY: 'key-value',
};

const EVERY_TYPE_YAML = `
- name: prices
  type: http
  url: https://api.example.test/prices?since=today
  method: post
  interval: 30s
  timeout: 5s
  headers:
    X-Client: gateway
  auth:
    bearer_env: FEED_TOKEN
  items: results
  id: sku
  groups: [prices, shop]
  retry:
    attempts: 3
    initial_delay: 500ms
    multiplier: 3
    max_delay: 1m
- name: drops
  type: directory
  path: /var/inbox
  interval: 2
  settle: 0ms
- name: orders
  type: postgres
  url_env: ORDERS_DB_URL
  query: SELECT id, ref FROM orders WHERE id > $1 ORDER BY id LIMIT 100
  cursor: id
  initial_cursor: 1000
  interval: 1h
- name: queue
  type: amqp
  url_env: RABBIT_URL
  queue: orders.created
  prefetch: 10
  map: '{"id": ref, "data": $}'
- name: ticker
  type: websocket
  url: wss://feed.example.test/stream
  headers:
    X-Client: gateway
  headers_env:
    X-Feed-Key: FEED_KEY
`;

/** The problems parsing reports; fails the test if the file is accepted. */
function problemsParsing(text: string, env: Record<string, string> = ENV): readonly string[] {
  try {
    parseSources(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
  throw new Error('the sources file was accepted');
}

/** One source, in YAML, with `fields` added under it. */
function one(type: string, fields: string, name = 'src'): string {
  return `- name: ${name}\n  type: ${type}\n${fields.replace(/^/gm, '  ')}\n`;
}

describe(parseSources.name, () => {
  const sut = parseSources;

  describe('every source type', () => {
    let sources: SourceDefinition[];
    beforeAll(() => {
      sources = sut(EVERY_TYPE_YAML, ENV);
    });

    it('reads an http source, with its auth, items, shape and retry', () => {
      const [http] = sources;

      expect(http).toMatchObject({
        name: 'prices',
        type: 'http',
        method: 'POST',
        intervalMs: 30_000,
        timeoutMs: 5_000,
        headers: { 'X-Client': 'gateway' },
        auth: { bearerEnv: 'FEED_TOKEN' },
        items: 'results',
        item: { id: 'sku', groups: ['prices', 'shop'] },
        retry: { attempts: 3, initialDelayMs: 500, multiplier: 3, maxDelayMs: 60_000 },
      });
      expect(http.type === 'http' && http.url.href).toBe('https://api.example.test/prices?since=today');
    });

    it('reads a directory source; a bare number is seconds', () => {
      expect(sources[1]).toMatchObject({ name: 'drops', type: 'directory', path: '/var/inbox', intervalMs: 2_000, settleMs: 0 });
    });

    it('reads a postgres source', () => {
      expect(sources[2]).toMatchObject({
        name: 'orders',
        type: 'postgres',
        urlEnv: 'ORDERS_DB_URL',
        query: 'SELECT id, ref FROM orders WHERE id > $1 ORDER BY id LIMIT 100',
        cursorColumn: 'id',
        initialCursor: 1000,
        intervalMs: 3_600_000,
      });
    });

    it('reads an amqp source with its map', () => {
      expect(sources[3]).toMatchObject({
        name: 'queue',
        type: 'amqp',
        urlEnv: 'RABBIT_URL',
        queue: 'orders.created',
        prefetch: 10,
        item: { map: '{"id": ref, "data": $}' },
      });
    });

    it('reads a websocket source, headers from the file and from the environment apart', () => {
      const ws = sources[4];

      expect(ws).toMatchObject({ name: 'ticker', type: 'websocket', headers: { 'X-Client': 'gateway' }, headersEnv: { 'X-Feed-Key': 'FEED_KEY' } });
      expect(ws.type === 'websocket' && ws.url.href).toBe('wss://feed.example.test/stream');
      // the definition names the variable; its value stays in the environment
      expect(JSON.stringify(sources)).not.toContain('key-value');
    });

    it('applies the defaults to what a source leaves out', () => {
      const [http, directory, postgres, amqp, ws] = sut(
        [
          one('http', 'url: http://127.0.0.1/feed', 'h'),
          one('directory', 'path: ./in', 'd'),
          one('postgres', 'url_env: ORDERS_DB_URL\nquery: SELECT 1\ncursor: id', 'p'),
          one('amqp', 'url_env: RABBIT_URL\nqueue: q', 'a'),
          one('websocket', 'url: ws://127.0.0.1/feed', 'w'),
        ].join(''),
        ENV,
      );

      for (const source of [http, directory, postgres, amqp, ws]) {
        expect(source).toMatchObject({ intervalMs: 10_000, retry: { attempts: 5, initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000 }, item: {} });
        expect(source.item).toEqual({ id: undefined, map: undefined, groups: undefined });
      }
      expect(http).toMatchObject({
        method: 'GET',
        headers: {},
        auth: undefined,
        items: undefined,
        timeoutMs: 10_000,
        maxBodyBytes: 16 * 1_048_576,
        maxItems: 10_000,
      });
      expect(directory).toMatchObject({ settleMs: 1_000 });
      expect(postgres).toMatchObject({ initialCursor: 0 });
      expect(amqp).toMatchObject({ prefetch: 50 });
      expect(ws).toMatchObject({ headers: {}, headersEnv: {}, maxPending: 1_000 });
    });

    it.each([
      ['512KiB', 524_288],
      ['16MiB', 16_777_216],
      ['1GiB', 1_073_741_824],
      ['2048', 2_048],
    ])('reads max_body %j as %i bytes, with max_items and a websocket max_pending', (text, bytes) => {
      const [http, ws] = sut(
        one('http', `url: http://127.0.0.1/feed\nmax_body: ${text}\nmax_items: 250`, 'h') + one('websocket', 'url: ws://127.0.0.1/feed\nmax_pending: 20', 'w'),
        ENV,
      );

      expect(http).toMatchObject({ maxBodyBytes: bytes, maxItems: 250 });
      expect(ws).toMatchObject({ maxPending: 20 });
    });

    it('refuses limits out of range, naming each field', () => {
      const text =
        one('http', 'url: http://127.0.0.1/feed\nmax_body: 2GiB\nmax_items: 0', 'h') +
        one('http', 'url: http://127.0.0.1/feed\nmax_body: lots', 'i') +
        one('websocket', 'url: ws://127.0.0.1/feed\nmax_pending: 100001', 'w');

      expect(problemsParsing(text)).toEqual([
        'sources[0] (h).max_body: must be a size such as 512KiB or 16MiB, from 1KiB to 1GiB',
        'sources[0] (h).max_items: must be a whole number from 1 to 1000000 (got "0")',
        'sources[1] (i).max_body: must be a size such as 512KiB or 16MiB, from 1KiB to 1GiB',
        'sources[2] (w).max_pending: must be a whole number from 1 to 100000 (got "100001")',
      ]);
    });

    it('builds basic auth from two variables', () => {
      const [http] = sut(one('http', 'url: http://127.0.0.1/feed\nauth:\n  basic_user_env: FEED_USER\n  basic_password_env: FEED_PASSWORD'), ENV);

      expect(http).toMatchObject({ auth: { basicUserEnv: 'FEED_USER', basicPasswordEnv: 'FEED_PASSWORD' } });
    });
  });

  describe('file forms', () => {
    it('reads JSON as well as YAML', () => {
      const json = JSON.stringify([
        { name: 'prices', type: 'http', url: 'https://api.example.test/prices', interval: '30s', items: 'results', auth: { bearer_env: 'FEED_TOKEN' } },
        { name: 'queue', type: 'amqp', url_env: 'RABBIT_URL', queue: 'orders.created', retry: { attempts: 2 } },
      ]);

      const sources = sut(json, ENV);

      expect(sources.map((source) => [source.name, source.type])).toEqual([
        ['prices', 'http'],
        ['queue', 'amqp'],
      ]);
      expect(sources[0]).toMatchObject({ intervalMs: 30_000, items: 'results', auth: { bearerEnv: 'FEED_TOKEN' } });
      expect(sources[1].retry.attempts).toBe(2);
    });

    it('reads an object with a sources list, in YAML and in JSON, as the bare list', () => {
      const bare = sut(EVERY_TYPE_YAML, ENV);
      const nested = sut(`sources:\n${EVERY_TYPE_YAML.replace(/^/gm, '  ')}`, ENV);
      const asJson = sut(JSON.stringify({ sources: [{ name: 'drops', type: 'directory', path: '/var/inbox', interval: 2, settle: '0ms' }] }), ENV);

      expect(nested).toEqual(bare);
      expect(asJson).toEqual([bare[1]]);
    });

    it('accepts an empty list', () => {
      expect(sut('[]', {})).toEqual([]);
      expect(sut('sources: []', {})).toEqual([]);
    });

    it.each([
      ['text that is neither YAML nor JSON', '- name: a\n  type: [http', /^line 2, column 14: not valid YAML or JSON: /],
      ['a single source not in a list', 'name: a\ntype: http', /^must be a list of sources/],
      ['an empty file', '', /^must be a list of sources/],
      ['a scalar', '42', /^must be a list of sources/],
      ['sources that are not a list', 'sources: {name: a}', /^must be a list of sources/],
    ])('refuses %s with one problem', (_case, text, problem) => {
      const problems = problemsParsing(text);

      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(problem);
    });
  });

  describe('problems', () => {
    it('names the source and the field of each problem', () => {
      expect(problemsParsing(one('http', 'url: ftp://files.example.test/feed\nmethod: PUT', 'prices'))).toEqual([
        'sources[0] (prices).method: must be GET or POST',
        'sources[0] (prices).url: must be a URL starting with http:// or https://',
      ]);
    });

    it('collects every problem of every source in one go', () => {
      const text = [
        one('http', 'url: not a url\ntimeout: 10ms\nheaders: [a]\ngroups: ["no spaces allowed"]', 'a'),
        one('directory', 'interval: often\nretry:\n  attempts: 0\n  multiplier: 0.5\n  max_delay: soon', 'b'),
        one('postgres', 'url_env: not-a-variable\ninitial_cursor: [1]', 'c'),
        one('amqp', 'url_env: RABBIT_URL\nqueue: q\nprefetch: 0', 'd'),
        one('websocket', 'url: http://127.0.0.1/feed\nheaders_env:\n  X-Key: 7', 'e'),
        one('ftp', 'url: ftp://x', 'f'),
        '- name: has space\n  type: directory\n  path: ./in\n',
        '- type: directory\n  path: ./in\n',
        '- just a string\n',
      ].join('');

      const problems = problemsParsing(text);

      expect([...problems].sort()).toEqual(
        [
          'sources[0] (a).url: must be a URL starting with http:// or https://',
          'sources[0] (a).timeout: must be a duration of at least 100 ms such as 30d, 12h, 15m or 45s (got "10ms")',
          'sources[0] (a).headers: must map names to strings',
          'sources[0] (a).groups: must be a list of group names',
          'sources[1] (b).interval: must be a duration of at least 10 ms such as 30d, 12h, 15m or 45s (got "often")',
          'sources[1] (b).retry.attempts: must be a whole number from 1 to 1000 (got "0")',
          'sources[1] (b).retry.multiplier: must be a number of at least 1',
          'sources[1] (b).retry.max_delay: must be a duration of at least 1 ms such as 30d, 12h, 15m or 45s (got "soon")',
          'sources[1] (b).path: is required',
          'sources[2] (c).url_env: must name an environment variable',
          'sources[2] (c).initial_cursor: must be a string or a number',
          'sources[2] (c).query: is required',
          'sources[2] (c).cursor: is required',
          'sources[3] (d).prefetch: must be a whole number from 1 to 10000 (got "0")',
          'sources[4] (e).url: must be a URL starting with ws:// or wss://',
          'sources[4] (e).headers_env: must map names to strings',
          'sources[5] (f).type: must be one of http, directory, postgres, amqp, websocket',
          'sources[6] (has space).name: is required and must match ^[A-Za-z0-9._-]{1,64}$',
          'sources[7].name: is required and must match ^[A-Za-z0-9._-]{1,64}$',
          'sources[8]: must be an object with a name and a type',
        ].sort(),
      );
    });

    it.each([
      ['interval', 'interval: 5ms', 'interval: must be a duration of at least 10 ms such as 30d, 12h, 15m or 45s (got "5ms")'],
      ['interval', 'interval: -1s', 'interval: must be a duration of at least 10 ms such as 30d, 12h, 15m or 45s (got "-1s")'],
      ['interval', 'interval: 1.5s', 'interval: must be a duration of at least 10 ms such as 30d, 12h, 15m or 45s (got "1.5s")'],
      ['interval', 'interval: 10 minutes', 'interval: must be a duration of at least 10 ms such as 30d, 12h, 15m or 45s (got "10 minutes")'],
      ['interval', 'interval: 2d', 'interval: must be at most 1d (got "2d")'],
      [
        'retry.initial_delay',
        'retry:\n  initial_delay: 0ms',
        'retry.initial_delay: must be a duration of at least 1 ms such as 30d, 12h, 15m or 45s (got "0ms")',
      ],
      ['settle', 'settle: later', 'settle: must be a duration of at least 0 ms such as 30d, 12h, 15m or 45s (got "later")'],
      // above the maximum: Node would fire a timer of more than 2^31-1 ms after 1 ms
      ['interval', 'interval: 30d', 'interval: must be at most 1d (got "30d")'],
      ['interval', 'interval: 86401s', 'interval: must be at most 1d (got "86401s")'],
      ['retry.initial_delay', 'retry:\n  initial_delay: 25h', 'retry.initial_delay: must be at most 1d (got "25h")'],
      ['retry.max_delay', 'retry:\n  max_delay: 2147483648ms', 'retry.max_delay: must be at most 1d (got "2147483648ms")'],
      ['settle', 'settle: 2d', 'settle: must be at most 1d (got "2d")'],
    ])('refuses a bad duration in %s (%j)', (_field, fields, problem) => {
      expect(problemsParsing(one('directory', `path: ./in\n${fields}`, 'd'))).toEqual([`sources[0] (d).${problem}`]);
    });

    it('refuses an http timeout above 10m', () => {
      expect(problemsParsing(one('http', 'url: http://127.0.0.1/feed\ntimeout: 11m', 'h'))).toEqual([
        'sources[0] (h).timeout: must be at most 10m (got "11m")',
      ]);
    });

    it("reads 30d as the environment does: a duration, refused only for being above the field's maximum", () => {
      const problems = problemsParsing(one('directory', 'path: ./in\ninterval: 30d\nsettle: 30x', 'd'));

      // the same grammar as TOKEN_IDLE_TTL=30d; a source's timers stop at 1d
      expect(problems).toEqual([
        'sources[0] (d).interval: must be at most 1d (got "30d")',
        'sources[0] (d).settle: must be a duration of at least 0 ms such as 30d, 12h, 15m or 45s (got "30x")',
      ]);
    });

    it.each([
      ['1d', 86_400_000],
      ['500ms', 500],
      ['10s', 10_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['15', 15_000],
      [' 20ms ', 20],
    ])('reads the duration %j', (text, ms) => {
      const [source] = sut(one('directory', `path: ./in\ninterval: ${JSON.stringify(text)}`), ENV);

      expect(source.intervalMs).toBe(ms);
    });

    it('refuses a name used twice', () => {
      const text = one('directory', 'path: ./a', 'inbox') + one('directory', 'path: ./b', 'other') + one('directory', 'path: ./c', 'inbox');

      expect(problemsParsing(text)).toEqual(['sources: the name "inbox" is used twice']);
    });

    it('refuses a source whose environment variable is not set, naming the source and the variable, never a value', () => {
      const text = [
        one('http', 'url: http://127.0.0.1/feed\nauth:\n  bearer_env: MISSING_TOKEN', 'h'),
        one('http', 'url: http://127.0.0.1/feed\nauth:\n  basic_user_env: FEED_USER\n  basic_password_env: MISSING_PASSWORD', 'b'),
        one('postgres', 'url_env: MISSING_DB_URL\nquery: SELECT 1\ncursor: id', 'p'),
        one('amqp', 'url_env: MISSING_AMQP_URL\nqueue: q', 'a'),
        one('websocket', 'url: ws://127.0.0.1/feed\nheaders_env:\n  X-Key: FEED_KEY\n  X-Other: MISSING_KEY', 'w'),
      ].join('');

      const problems = problemsParsing(text, { FEED_USER: 'user', FEED_KEY: 'key-value', MISSING_KEY: '' });

      expect(problems).toEqual([
        'sources (h): environment variable MISSING_TOKEN is not set',
        'sources (b): environment variable MISSING_PASSWORD is not set',
        'sources (p): environment variable MISSING_DB_URL is not set',
        'sources (a): environment variable MISSING_AMQP_URL is not set',
        // set but empty counts as not set
        'sources (w): environment variable MISSING_KEY is not set',
      ]);
      expect(problems.join('\n')).not.toMatch(/user|key-value/);
    });

    it('refuses basic auth with only one of its two variables', () => {
      expect(problemsParsing(one('http', 'url: http://127.0.0.1/feed\nauth:\n  basic_user_env: FEED_USER', 'h'))).toEqual([
        'sources[0] (h).auth.basic_user_env: basic_user_env and basic_password_env go together',
      ]);
    });

    it('reports problems in fields and in the environment together', () => {
      const problems = problemsParsing(one('amqp', 'url_env: MISSING_AMQP_URL\nqueue: q\ninterval: never', 'a'), {});

      expect(problems).toEqual([
        'sources[0] (a).interval: must be a duration of at least 10 ms such as 30d, 12h, 15m or 45s (got "never")',
        'sources (a): environment variable MISSING_AMQP_URL is not set',
      ]);
    });
  });

  describe('unknown keys', () => {
    /** A valid value for each key a source or section may take; a key missing here fails the test naming it. */
    const SAMPLES: Record<string, unknown> = {
      interval: '5s',
      id: 'ref',
      map: '{"data": $}',
      groups: ['orders'],
      method: 'POST',
      headers: { 'X-Client': 'gateway' },
      items: 'results',
      timeout: '5s',
      max_body: '1MiB',
      max_items: 100,
      path: './in',
      settle: '2s',
      url_env: 'ORDERS_DB_URL',
      query: 'SELECT id FROM orders WHERE id > $1',
      cursor: 'id',
      initial_cursor: 7,
      queue: 'orders.created',
      prefetch: 5,
      headers_env: { 'X-Feed-Key': 'FEED_KEY' },
      max_pending: 10,
      attempts: 2,
      initial_delay: '100ms',
      multiplier: 1.5,
      max_delay: '5s',
    };
    const URLS: Partial<Record<SourceType, string>> = { http: 'http://127.0.0.1/feed', websocket: 'ws://127.0.0.1/feed' };
    /** Together they use every auth key; all three at once is not a form a user would write. */
    const AUTH_FORMS: Record<string, string>[] = [{ bearer_env: 'FEED_TOKEN' }, { basic_user_env: 'FEED_USER', basic_password_env: 'FEED_PASSWORD' }];

    function sample(key: string, values: Record<string, unknown>): unknown {
      if (!(key in values)) throw new Error(`no sample value for the key ${key}: add one to the test's SAMPLES`);
      return values[key];
    }

    function withEveryKey(type: SourceType, auth: Record<string, string>): Record<string, unknown> {
      const values = {
        ...SAMPLES,
        name: `every-${type}`,
        type,
        url: URLS[type],
        auth,
        retry: Object.fromEntries(SECTION_KEYS.retry.map((key) => [key, sample(key, SAMPLES)])),
      };
      return Object.fromEntries(SOURCE_KEYS[type].map((key) => [key, sample(key, values)]));
    }

    it.each(Object.keys(SOURCE_KEYS) as SourceType[])('accepts every key of %s sources, and every retry key', (type) => {
      const sources = parseSources(JSON.stringify([withEveryKey(type, AUTH_FORMS[0])]), ENV);

      expect(sources).toMatchObject([
        { name: `every-${type}`, type, intervalMs: 5_000, retry: { attempts: 2, initialDelayMs: 100, multiplier: 1.5, maxDelayMs: 5_000 } },
      ]);
    });

    it.each(AUTH_FORMS)('accepts the auth keys %j', (auth) => {
      expect(parseSources(JSON.stringify([withEveryKey('http', auth)]), ENV)).toHaveLength(1);
      expect(AUTH_FORMS.flatMap(Object.keys).sort()).toEqual([...SECTION_KEYS.auth].sort());
    });

    it.each([
      ['directory', 'intervall: 5s', 'intervall: unknown key, did you mean "interval"?'],
      ['directory', 'setle: 5s', 'setle: unknown key, did you mean "settle"?'],
      ['directory', 'group: [shop]', 'group: unknown key, did you mean "groups"?'],
      ['directory', 'retry:\n  attempt: 3', 'retry.attempt: unknown key, did you mean "attempts"?'],
      ['directory', 'retry:\n  mutliplier: 3', 'retry.mutliplier: unknown key, did you mean "multiplier"?'],
      ['directory', 'Interval: 5s', 'Interval: unknown key, did you mean "interval"?'],
      ['http', 'maxBody: 1MiB', 'maxBody: unknown key, did you mean "max_body"?'],
      ['http', 'timeo: 5s', 'timeo: unknown key, did you mean "timeout"?'],
      ['http', 'auth:\n  bearer: FEED_TOKEN', 'auth.bearer: unknown key, did you mean "bearer_env"?'],
      ['postgres', 'intial_cursor: 5', 'intial_cursor: unknown key, did you mean "initial_cursor"?'],
      ['websocket', 'header_env:\n  X-Feed-Key: FEED_KEY', 'header_env: unknown key, did you mean "headers_env"?'],
    ])('refuses in %s sources %j, suggesting the key meant', (type, fields, problem) => {
      const required: Record<string, string> = {
        directory: 'path: ./in',
        http: 'url: http://127.0.0.1/feed',
        postgres: 'url_env: ORDERS_DB_URL\nquery: SELECT 1\ncursor: id',
        websocket: 'url: ws://127.0.0.1/feed',
      };

      expect(problemsParsing(one(type, `${required[type]}\n${fields}`, 'orders'))).toEqual([`sources[0] (orders).${problem}`]);
    });

    it.each([
      ['http', 'url: http://127.0.0.1/feed\nsettle: 1s', 'settle: unknown key: settle is for directory sources, not an http source'],
      ['http', 'url: http://127.0.0.1/feed\nurl_env: ORDERS_DB_URL', 'url_env: unknown key: url_env is for postgres, amqp sources, not an http source'],
      ['websocket', 'url: ws://127.0.0.1/feed\nauth:\n  bearer_env: FEED_TOKEN', 'auth: unknown key: auth is for http sources, not a websocket source'],
      ['directory', 'path: ./in\nheaders:\n  X-Client: gateway', 'headers: unknown key: headers is for http, websocket sources, not a directory source'],
    ])('refuses in %s sources a key of another type, saying which types take it (%j)', (type, fields, problem) => {
      expect(problemsParsing(one(type, fields, 'src'))).toEqual([`sources[0] (src).${problem}`]);
    });

    it('lists the keys a source or section takes when nothing is close', () => {
      const problems = problemsParsing(one('amqp', 'url_env: RABBIT_URL\nqueue: q\ncolour: red\nretry:\n  jitter: true', 'queue'));

      expect(problems).toEqual([
        'sources[0] (queue).colour: unknown key; an amqp source takes name, type, interval, retry, id, map, groups, url_env, queue, prefetch',
        'sources[0] (queue).retry.jitter: unknown key; retry takes attempts, initial_delay, multiplier, max_delay',
      ]);
    });

    it('takes any header name in headers and headers_env, even one close to a key', () => {
      const [http, ws] = parseSources(
        one('http', 'url: http://127.0.0.1/feed\nheaders:\n  Group: shop\n  X-Retry: "3"', 'h') +
          one('websocket', 'url: ws://127.0.0.1/feed\nheaders:\n  Intervall: "5"\nheaders_env:\n  Settle: FEED_KEY\n  attempts: FEED_TOKEN', 'w'),
        ENV,
      );

      expect(http).toMatchObject({ headers: { Group: 'shop', 'X-Retry': '3' } });
      expect(ws).toMatchObject({ headers: { Intervall: '5' }, headersEnv: { Settle: 'FEED_KEY', attempts: 'FEED_TOKEN' } });
    });

    it('reports every unknown key with the other problems, in YAML and in JSON alike', () => {
      const yaml =
        one('directory', 'intervall: 5s\nsetle: 1s\ngroup: [shop]\nretry:\n  attempt: 3\n  max_delay: soon', 'orders') +
        one('http', 'url: http://127.0.0.1/feed\nsettle: 1s', 'feed');
      const json = JSON.stringify([
        { name: 'orders', type: 'directory', intervall: '5s', setle: '1s', group: ['shop'], retry: { attempt: 3, max_delay: 'soon' } },
        { name: 'feed', type: 'http', url: 'http://127.0.0.1/feed', settle: '1s' },
      ]);
      const expected = [
        'sources[0] (orders).intervall: unknown key, did you mean "interval"?',
        'sources[0] (orders).setle: unknown key, did you mean "settle"?',
        'sources[0] (orders).group: unknown key, did you mean "groups"?',
        'sources[0] (orders).retry.attempt: unknown key, did you mean "attempts"?',
        'sources[0] (orders).retry.max_delay: must be a duration of at least 1 ms such as 30d, 12h, 15m or 45s (got "soon")',
        'sources[0] (orders).path: is required',
        'sources[1] (feed).settle: unknown key: settle is for directory sources, not an http source',
      ];

      expect(problemsParsing(yaml)).toEqual(expected);
      expect(problemsParsing(json)).toEqual(expected);
    });

    it('refuses a key beside "sources" in an object file', () => {
      expect(problemsParsing(`defaults:\n  interval: 5s\nsources:\n${one('directory', 'path: ./in', 'd').replace(/^/gm, '  ')}`)).toEqual([
        'defaults: unknown key; the file holds only "sources"',
      ]);
    });
  });

  describe('JSONata expressions', () => {
    const BAD = '{"data": ';

    it.each([['map'], ['id']])('refuses a bad %s expression when the file is read, naming the source and the field', (field) => {
      expect(problemsParsing(one('directory', `path: ./in\n${field}: '${BAD}'`, 'drops'))).toEqual([
        expect.stringMatching(new RegExp(`^sources\\[0\\] \\(drops\\)\\.${field}: not a valid JSONata expression: `)),
      ]);
    });

    it('refuses a bad http items expression, and reports every bad expression at once', () => {
      const problems = problemsParsing(
        one('http', `url: http://127.0.0.1/feed\nitems: '${BAD}'`, 'feed') + one('directory', `path: ./in\nmap: '${BAD}'`, 'drops'),
      );
      expect(problems).toEqual([
        expect.stringMatching(/^sources\[0\] \(feed\)\.items: not a valid JSONata expression: /),
        expect.stringMatching(/^sources\[1\] \(drops\)\.map: not a valid JSONata expression: /),
      ]);
    });

    it('builds mappers and sources from good expressions', () => {
      const [source] = sut(one('http', `url: http://127.0.0.1/feed\nitems: results\nid: ref\nmap: '{"data": $}'`), ENV);

      expect(() => new ItemMapper(source.name, source.item)).not.toThrow();
      expect(() => createSource(source, ENV)).not.toThrow();
    });
  });
});

describe(loadSourcesFile.name, () => {
  const sut = loadSourcesFile;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sources-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file it is given', () => {
    const path = join(dir, 'sources.json');
    writeFileSync(path, JSON.stringify({ sources: [{ name: 'drops', type: 'directory', path: './in' }] }));

    expect(sut(path, {})).toMatchObject([{ name: 'drops', type: 'directory', path: './in' }]);
  });

  describe('a file that is not valid YAML or JSON', () => {
    it.each([
      [
        'a key without its colon',
        ['# inbox and archive', '- name: inbox', '  type: directory', '  path: ./in', '- name: archive', '  type directory', '  path: ./archive'],
        ['line 6, column 3: not valid YAML or JSON: Implicit keys need to be on a single line', '    - name: archive', '      type directory', '      ^'],
      ],
      [
        'a key given twice',
        ['- name: inbox', '  type: directory', '  path: ./in', '  path: ./other'],
        ['line 4, column 3: not valid YAML or JSON: Map keys must be unique', '      path: ./in', '      path: ./other', '      ^'],
      ],
      [
        'a tab in the indentation',
        ['- name: inbox', '  type: directory', '\tpath: ./in'],
        ['line 3, column 2: not valid YAML or JSON: Unexpected scalar at node end', '    \tpath: ./in', '     ^^^^'],
      ],
      [
        'JSON missing a comma',
        ['[', '  {"name": "inbox", "type": "directory", "path": "./in"}', '  {"name": "archive", "type": "directory", "path": "./archive"}', ']'],
        [
          'line 3, column 3: not valid YAML or JSON: Missing , or : between flow sequence items',
          '      {"name": "inbox", "type": "directory", "path": "./in"}',
          '      {"name": "archive", "type": "directory", "path": "./archive"}',
          '      ^',
        ],
      ],
    ])('refuses %s, with the line, the column and the excerpt yaml gives', (_case, lines, problem) => {
      const path = join(dir, 'syntax.yaml');
      writeFileSync(path, `${lines.join('\n')}\n`);

      expect(() => sut(path, {})).toThrow(expect.objectContaining({ problems: [problem.join('\n')] }));
    });

    it('keeps the excerpt under its problem in the error message', () => {
      const path = join(dir, 'twice.yaml');
      writeFileSync(path, '- name: inbox\n  type: directory\n  type: http\n');

      expect(() => sut(path, {})).toThrow(
        [
          'invalid sources file:',
          '  line 3, column 3: not valid YAML or JSON: Map keys must be unique',
          '        type: directory',
          '        type: http',
          '        ^',
        ].join('\n'),
      );
    });
  });

  it('throws the collected problems of a bad file', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, one('directory', 'interval: never', 'd'));

    expect(() => sut(path, {})).toThrow(ConfigurationError);
    expect(() => sut(path, {})).toThrow(/sources\[0\] \(d\)\.interval: .*\n.*sources\[0\] \(d\)\.path: is required/);
  });
});
