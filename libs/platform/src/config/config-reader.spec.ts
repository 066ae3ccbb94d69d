import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from './configuration-error.js';
import { ConfigReader } from './config-reader.js';
import { formatDuration, MAX_TIMER_MS } from './duration.js';

/** The problems `finish()` reports, or [] when it does not throw. */
function problemsOf(sut: ConfigReader): readonly string[] {
  try {
    sut.finish();
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
}

describe(ConfigReader.name, () => {
  describe('string', () => {
    it('returns the trimmed value, or the fallback when unset or blank', () => {
      const sut = ConfigReader.env({ A: '  value ', B: '   ', C: '' });

      expect(sut.string('A')).toBe('value');
      expect(sut.string('B', 'fallback')).toBe('fallback');
      expect(sut.string('C', 'fallback')).toBe('fallback');
      expect(sut.string('MISSING')).toBeUndefined();
      expect(problemsOf(sut)).toEqual([]);
    });
  });

  describe('integer', () => {
    const port = { min: 0, max: 65_535 };

    it('reads whole numbers inside the range, bounds included', () => {
      const sut = ConfigReader.env({ LOW: '0', HIGH: '65535', MID: ' 8080 ', NEG: '-5' });

      expect(sut.integer('LOW', 1, port)).toBe(0);
      expect(sut.integer('HIGH', 1, port)).toBe(65_535);
      expect(sut.integer('MID', 1, port)).toBe(8080);
      expect(sut.integer('NEG', 0, { min: -10, max: 10 })).toBe(-5);
      expect(problemsOf(sut)).toEqual([]);
    });

    it('uses the fallback when unset', () => {
      const sut = ConfigReader.env({});

      expect(sut.integer('PORT', 3000, port)).toBe(3000);
      expect(problemsOf(sut)).toEqual([]);
    });

    it.each([['65536'], ['-1'], ['80.5'], ['1e3'], ['abc'], ['0x50'], ['99999999999999999999']])(
      'reports "%s" as out of range or not a whole number',
      (raw) => {
        const sut = ConfigReader.env({ PORT: raw });

        expect(sut.integer('PORT', 3000, port)).toBe(3000);
        expect(problemsOf(sut)).toEqual([`PORT: must be a whole number from 0 to 65535 (got "${raw}")`]);
      },
    );
  });

  describe('duration', () => {
    it.each([
      ['30d', 30 * 86_400_000],
      ['12h', 12 * 3_600_000],
      ['15m', 15 * 60_000],
      ['90s', 90_000],
      ['500ms', 500],
      ['45', 45_000],
    ])('reads %s as %i ms', (raw, ms) => {
      const sut = ConfigReader.env({ TTL: raw });

      expect(sut.duration('TTL', '1s', { minMs: 1, maxMs: 365 * 86_400_000 })).toBe(ms);
      expect(problemsOf(sut)).toEqual([]);
    });

    it('parses the fallback when unset', () => {
      const sut = ConfigReader.env({});

      expect(sut.duration('TTL', '30d', { minMs: 1_000, maxMs: 365 * 86_400_000 })).toBe(30 * 86_400_000);
      expect(problemsOf(sut)).toEqual([]);
    });

    it.each([['soon'], ['10 s'], ['-5s'], ['1.5h'], ['3w'], ['s']])('reports garbage "%s"', (raw) => {
      const sut = ConfigReader.env({ TTL: raw });

      sut.duration('TTL', '30d', { minMs: 1_000, maxMs: 365 * 86_400_000 });

      expect(problemsOf(sut)).toEqual([`TTL: must be a duration of at least 1000 ms such as 30d, 12h, 15m or 45s (got "${raw}")`]);
    });

    it('reports a duration below the minimum', () => {
      const sut = ConfigReader.env({ TTL: '500ms' });

      sut.duration('TTL', '30d', { minMs: 1_000, maxMs: 365 * 86_400_000 });

      expect(problemsOf(sut)).toEqual([expect.stringMatching(/^TTL: must be a duration of at least 1000 ms/)]);
    });

    it('accepts the maximum itself', () => {
      const sut = ConfigReader.env({ PING: '24h' });

      expect(sut.duration('PING', '30s', { minMs: 100, maxMs: 86_400_000 })).toBe(86_400_000);
      expect(problemsOf(sut)).toEqual([]);
    });

    it.each([['30d'], ['86401s'], ['25h']])('refuses "%s" above the maximum, naming the variable and the maximum', (raw) => {
      const sut = ConfigReader.env({ PING: raw });

      sut.duration('PING', '30s', { minMs: 100, maxMs: 86_400_000 });

      expect(problemsOf(sut)).toEqual([`PING: must be at most 1d (got "${raw}")`]);
    });

    it('refuses a fallback above the maximum too, so that a wrong default cannot slip through', () => {
      const sut = ConfigReader.env({});

      sut.duration('PING', '30d', { minMs: 100, maxMs: MAX_TIMER_MS });

      expect(problemsOf(sut)).toEqual(['PING: must be at most 2147483647ms (got "30d")']);
    });
  });

  describe(formatDuration.name, () => {
    it.each([
      [86_400_000, '1d'],
      [90_000, '90s'],
      [5_400_000, '90m'],
      [1_500, '1500ms'],
      [MAX_TIMER_MS, '2147483647ms'],
    ])('states %i ms as %s', (ms, text) => {
      expect(formatDuration(ms)).toBe(text);
    });
  });

  describe('addressList', () => {
    it('parses a comma-separated list of blocks and addresses', () => {
      const sut = ConfigReader.env({ CIDRS: '10.0.0.0/8, ::1/128,192.168.1.7' });

      const list = sut.addressList('CIDRS', '');

      expect(list.entries).toEqual(['10.0.0.0/8', '::1/128', '192.168.1.7']);
      expect(list.contains('10.20.30.40')).toBe(true);
      expect(list.contains('192.168.1.8')).toBe(false);
      expect(problemsOf(sut)).toEqual([]);
    });

    it('parses the fallback when unset', () => {
      const sut = ConfigReader.env({});

      expect(sut.addressList('CIDRS', '127.0.0.1/32').contains('127.0.0.1')).toBe(true);
    });

    it('reports a bad entry by name and returns an empty list', () => {
      const sut = ConfigReader.env({ CIDRS: '10.0.0.0/8, not-an-ip' });

      const list = sut.addressList('CIDRS', '');

      expect(list.isEmpty).toBe(true);
      expect(list.contains('10.0.0.1')).toBe(false);
      expect(problemsOf(sut)).toEqual(['CIDRS: "not-an-ip" is not an address or CIDR block']);
    });
  });

  describe('url', () => {
    const postgres = ['postgres:', 'postgresql:'] as const;

    it('reads a URL with an accepted protocol', () => {
      const sut = ConfigReader.env({ DATABASE_URL: 'postgres://app:pw@db.internal:5432/push' });

      expect(sut.url('DATABASE_URL', postgres)?.hostname).toBe('db.internal');
      expect(problemsOf(sut)).toEqual([]);
    });

    it('is undefined when unset', () => {
      const sut = ConfigReader.env({});

      expect(sut.url('DATABASE_URL', postgres)).toBeUndefined();
      expect(problemsOf(sut)).toEqual([]);
    });

    it.each([
      ['an unparsable URL', 'postgres://app:S3cretPassw0rd@db:notaport/push'],
      ['a URL with the wrong protocol', 'mysql://app:S3cretPassw0rd@db/push'],
    ])('reports %s without echoing its password', (_, raw) => {
      const sut = ConfigReader.env({ DATABASE_URL: raw });

      expect(sut.url('DATABASE_URL', postgres)).toBeUndefined();

      const problems = problemsOf(sut);
      expect(problems).toEqual(['DATABASE_URL: must be a URL starting with postgres:// or postgresql://']);
      expect(problems.join('\n')).not.toContain('S3cretPassw0rd');
    });
  });

  describe('secret', () => {
    it('returns a value long enough', () => {
      const sut = ConfigReader.env({ TOKEN: '0123456789abcdef' });

      expect(sut.secret('TOKEN', 16)).toBe('0123456789abcdef');
      expect(problemsOf(sut)).toEqual([]);
    });

    it('is undefined when unset or empty', () => {
      const sut = ConfigReader.env({ EMPTY: '' });

      expect(sut.secret('EMPTY', 16)).toBeUndefined();
      expect(sut.secret('MISSING', 16)).toBeUndefined();
      expect(problemsOf(sut)).toEqual([]);
    });

    it('reports a value too short without echoing it', () => {
      const sut = ConfigReader.env({ TOKEN: 'hunter2' });

      expect(sut.secret('TOKEN', 16)).toBeUndefined();

      const problems = problemsOf(sut);
      expect(problems).toEqual(['TOKEN: must be at least 16 characters long']);
      expect(problems.join('\n')).not.toContain('hunter2');
    });
  });

  describe('oneOf', () => {
    it('accepts an allowed value and reports any other', () => {
      const sut = ConfigReader.env({ GOOD: 'debug', BAD: 'loud' });

      expect(sut.oneOf('GOOD', 'info', ['info', 'debug'])).toBe('debug');
      expect(sut.oneOf('BAD', 'info', ['info', 'debug'])).toBe('info');
      expect(problemsOf(sut)).toEqual(['BAD: must be one of info, debug (got "loud")']);
    });
  });

  describe('file', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'env-reader-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the file a variable names', () => {
      const path = join(dir, 'cert.pem');
      writeFileSync(path, 'PEM');
      const sut = ConfigReader.env({ CERT: path });

      expect(sut.file('CERT')?.toString()).toBe('PEM');
      expect(problemsOf(sut)).toEqual([]);
    });

    it('is undefined when unset', () => {
      const sut = ConfigReader.env({});

      expect(sut.file('CERT')).toBeUndefined();
      expect(problemsOf(sut)).toEqual([]);
    });

    it('reports a missing file with its path and error code', () => {
      const path = join(dir, 'missing.pem');
      const sut = ConfigReader.env({ CERT: path });

      expect(sut.file('CERT')).toBeUndefined();
      expect(problemsOf(sut)).toEqual([`CERT: cannot read "${path}" (ENOENT)`]);
    });
  });

  describe('finish', () => {
    it('does nothing when every value was good', () => {
      const sut = ConfigReader.env({ PORT: '80' });
      sut.integer('PORT', 3000, { min: 0, max: 65_535 });

      expect(() => sut.finish()).not.toThrow();
    });

    it('throws one ConfigurationError listing every problem, one per variable, each led by its name', () => {
      const sut = ConfigReader.env({
        PORT: '70000',
        TTL: 'forever',
        CIDRS: '300.0.0.1',
        DATABASE_URL: 'http://u:pw@x/db',
        TOKEN: 'short',
      });
      sut.integer('PORT', 3000, { min: 0, max: 65_535 });
      sut.duration('TTL', '30d', { minMs: 1_000, maxMs: 365 * 86_400_000 });
      sut.addressList('CIDRS', '');
      sut.url('DATABASE_URL', ['postgres:']);
      sut.secret('TOKEN', 16);
      sut.problem('REDIS_URL', 'not supported');

      let thrown: unknown;
      try {
        sut.finish();
      } catch (error) {
        thrown = error;
      }

      expect(thrown).toBeInstanceOf(ConfigurationError);
      const { problems, message } = thrown as ConfigurationError;
      const names = ['PORT', 'TTL', 'CIDRS', 'DATABASE_URL', 'TOKEN', 'REDIS_URL'];
      expect(problems).toHaveLength(names.length);
      problems.forEach((problem, i) => expect(problem.startsWith(`${names[i]}: `)).toBe(true));
      // the message an operator reads carries every problem on its own line
      for (const problem of problems) expect(message.split('\n')).toContain(`  ${problem}`);
    });
  });

  describe('an object of a file', () => {
    const DAY_MS = 86_400_000;

    /** A reader over one object of a file, as sources.yaml gives it, and the problems it collects. */
    function objectReader(raw: Record<string, unknown>, known: readonly string[]): { sut: ConfigReader; problems: string[] } {
      const problems: string[] = [];
      return { sut: ConfigReader.object(raw, 'sources[0] (feed)', problems, known), problems };
    }

    it.each([
      ['30d', 30 * DAY_MS],
      ['12h', 12 * 3_600_000],
      ['500ms', 500],
      [' 20ms ', 20],
      [45, 45_000],
    ])('reads the duration %j in the grammar of the environment', (raw, ms) => {
      const { sut, problems } = objectReader({ wait: raw }, ['wait']);

      expect(sut.duration('wait', '1s', { minMs: 1, maxMs: 365 * DAY_MS })).toBe(ms);
      expect(problems).toEqual([]);
    });

    it('states a bad duration as the environment does, led by the object and the field', () => {
      const { sut, problems } = objectReader({ interval: '30d', settle: 1.5 }, ['interval', 'settle']);

      sut.duration('interval', '10s', { minMs: 10, maxMs: DAY_MS });
      sut.duration('settle', '1s', { minMs: 0, maxMs: DAY_MS });

      expect(problems).toEqual([
        'sources[0] (feed).interval: must be at most 1d (got "30d")',
        'sources[0] (feed).settle: must be a duration of at least 0 ms such as 30d, 12h, 15m or 45s (got "1.5")',
      ]);
    });

    it('reads a whole number given as a YAML number or as text', () => {
      const { sut, problems } = objectReader({ a: 10, b: '20', c: 2.5 }, ['a', 'b', 'c']);

      expect(sut.integer('a', 1, { min: 1, max: 100 })).toBe(10);
      expect(sut.integer('b', 1, { min: 1, max: 100 })).toBe(20);
      expect(sut.integer('c', 1, { min: 1, max: 100 })).toBe(1);
      expect(problems).toEqual(['sources[0] (feed).c: must be a whole number from 1 to 100 (got "2.5")']);
    });

    it('refuses a blank string where the environment would take the default', () => {
      const { sut, problems } = objectReader({ path: '  ' }, ['path']);

      expect(sut.string('path', './in')).toBe('./in');
      expect(problems).toEqual(['sources[0] (feed).path: must be a non-empty string']);
    });

    it('refuses unknown keys, suggesting the key meant, in sections too', () => {
      const { sut, problems } = objectReader({ intervall: '5s', retry: { atempts: 3 } }, ['interval', 'retry']);

      sut.refuseUnknownKeys('a feed');
      sut.section('retry', ['attempts']);

      expect(problems).toEqual([
        'sources[0] (feed).intervall: unknown key, did you mean "interval"?',
        'sources[0] (feed).retry.atempts: unknown key, did you mean "attempts"?',
      ]);
    });

    it('fails loudly when code reads a key it does not declare', () => {
      const { sut } = objectReader({}, ['interval']);

      expect(() => sut.string('intervall')).toThrow(/intervall is read but not among the known keys of sources\[0\] \(feed\)/);
    });

    it('reports the problems of every reader sharing a list at once, never echoing a secret', () => {
      const problems: string[] = [];
      const first = ConfigReader.object({ interval: 'soon', token: 'Sh0rtS3cret' }, 'sources[0] (a)', problems, ['interval', 'token']);
      const second = ConfigReader.object({ prefetch: 0 }, 'sources[1] (b)', problems, ['prefetch']);
      first.duration('interval', '10s', { minMs: 10, maxMs: DAY_MS });
      first.secret('token', 16);
      second.integer('prefetch', 50, { min: 1, max: 10_000 });

      let thrown: unknown;
      try {
        second.finish('invalid sources file');
      } catch (error) {
        thrown = error;
      }

      expect(thrown).toBeInstanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual([
        'sources[0] (a).interval',
        'sources[0] (a).token',
        'sources[1] (b).prefetch',
      ]);
      expect((thrown as ConfigurationError).message).toMatch(/^invalid sources file:\n/);
      expect((thrown as ConfigurationError).message).not.toContain('Sh0rtS3cret');
    });
  });

  it('reports every kind of problem in the environment at once, never echoing a secret or a password', () => {
    const sut = ConfigReader.env({
      PORT: 'http',
      TTL: '1.5h',
      LEVEL: 'loud',
      CIDRS: 'intranet',
      SMTP_URL: 'http://alerts:Sm7pPass@mail',
      TO: 'oncall',
      TOKEN: 'Sh0rtS3cret',
    });
    sut.integer('PORT', 3000, { min: 0, max: 65_535 });
    sut.duration('TTL', '30d', { minMs: 1_000, maxMs: 365 * 86_400_000 });
    sut.oneOf('LEVEL', 'log', ['log', 'debug']);
    sut.addressList('CIDRS', '');
    sut.url('SMTP_URL', ['smtp:', 'smtps:']);
    sut.emailList('TO');
    sut.secret('TOKEN', 16);

    const problems = problemsOf(sut);

    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':')))).toEqual(['PORT', 'TTL', 'LEVEL', 'CIDRS', 'SMTP_URL', 'TO', 'TOKEN']);
    expect(problems.join('\n')).not.toMatch(/Sm7pPass|Sh0rtS3cret/);
  });
});
