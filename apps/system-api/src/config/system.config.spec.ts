import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, MAX_TIMER_MS } from '@app/platform';
import { loadSystemConfig } from './system.config.js';

/** The problems loading reports; fails the test if loading succeeds. */
function problemsLoading(env: Record<string, string>): readonly string[] {
  try {
    loadSystemConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
  throw new Error('the configuration was accepted');
}

describe(loadSystemConfig.name, () => {
  const sut = loadSystemConfig;
  let dir: string;
  let sourcesFile: string;
  const startedIn = process.cwd();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'system-config-'));
    sourcesFile = join(dir, 'sources.yaml');
    writeFileSync(sourcesFile, '[]');
  });
  afterEach(() => process.chdir(startedIn));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `load` with an empty working directory, so that no ./sources.yaml is found by accident. */
  function inEmptyFolder<T>(load: () => T): T {
    const empty = mkdtempSync(join(dir, 'cwd-'));
    process.chdir(empty);
    return load();
  }

  it('applies the documented defaults to an empty environment', () => {
    const config = inEmptyFolder(() => sut({}));

    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3001,
      pgliteDataDir: './data/system-api',
      forwardBatch: 100,
      forwardRetryMaxMs: 30_000,
      forwardServerErrorAttempts: 5,
      experienceApiAlertAfterMs: 60_000,
      outboxRetentionMs: 7 * 86_400_000,
      sourceLeaseMs: 30_000,
      healthCheckIntervalMs: 5_000,
    });
    expect(config.experienceApiUrl.href).toBe('http://127.0.0.1:3000/');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.tls).toBeUndefined();
    expect(config.sourcesFile).toBeUndefined();
    expect(config.alerts).toMatchObject({ smtpUrl: undefined, to: [] });
    expect(config.instanceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('gives each start its own instance id', () => {
    expect(sut({}).instanceId).not.toBe(sut({}).instanceId);
  });

  it('uses ./sources.yaml of the working directory when SOURCES_FILE is not set', () => {
    process.chdir(dir);

    expect(sut({}).sourcesFile).toBe('./sources.yaml');
  });

  it('reads every variable given, and keeps the environment for the sources', () => {
    const env = {
      HOST: '0.0.0.0',
      PORT: '8081',
      INSTANCE_ID: 'system-1',
      DATABASE_URL: 'postgres://system:pw@db:5432/push',
      PGLITE_DATA_DIR: 'memory://',
      EXPERIENCE_API_URL: 'https://experience.internal:8443',
      SOURCES_FILE: sourcesFile,
      FORWARD_BATCH: '25',
      FORWARD_RETRY_MAX: '5s',
      FORWARD_SERVER_ERROR_ATTEMPTS: '3',
      EXPERIENCE_API_ALERT_AFTER: '2m',
      OUTBOX_RETENTION: '1d',
      SOURCE_LEASE_TTL: '10s',
      FEED_TOKEN: 'for-a-source',
    };

    const config = sut(env);

    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8081,
      instanceId: 'system-1',
      pgliteDataDir: 'memory://',
      sourcesFile,
      forwardBatch: 25,
      forwardRetryMaxMs: 5_000,
      forwardServerErrorAttempts: 3,
      experienceApiAlertAfterMs: 120_000,
      outboxRetentionMs: 86_400_000,
      sourceLeaseMs: 10_000,
    });
    expect(config.databaseUrl?.host).toBe('db:5432');
    expect(config.experienceApiUrl.href).toBe('https://experience.internal:8443/');
    expect(config.env.FEED_TOKEN).toBe('for-a-source');
  });

  it('writes log lines at LOG_LEVEL and in LOG_FORMAT, text at level log by default', () => {
    expect(inEmptyFolder(() => sut({})).logging).toEqual({ level: 'log', format: 'text', noColor: false });
    expect(inEmptyFolder(() => sut({ LOG_LEVEL: 'warn', LOG_FORMAT: 'json' })).logging).toEqual({ level: 'warn', format: 'json', noColor: false });
  });

  it('refuses an unknown LOG_LEVEL or LOG_FORMAT, one line each naming the variable', () => {
    const problems = inEmptyFolder(() => problemsLoading({ LOG_LEVEL: 'trace', LOG_FORMAT: 'pretty' }));

    expect(problems).toEqual([
      'LOG_LEVEL: must be one of error, warn, log, info, debug, verbose (got "trace")',
      'LOG_FORMAT: must be one of text, json (got "pretty")',
    ]);
  });

  it('refuses a SOURCES_FILE that does not exist, naming it', () => {
    const missing = join(dir, 'nowhere', 'sources.yaml');

    expect(problemsLoading({ SOURCES_FILE: missing })).toEqual([`SOURCES_FILE: "${missing}" does not exist`]);
  });

  it.each([
    ['PORT', '65536'],
    ['PORT', 'http'],
    ['EXPERIENCE_API_URL', 'ws://127.0.0.1:3000'],
    ['EXPERIENCE_API_URL', '127.0.0.1:3000'],
    ['DATABASE_URL', 'mysql://db/push'],
    ['FORWARD_BATCH', '0'],
    ['FORWARD_BATCH', '10001'],
    ['FORWARD_RETRY_MAX', '50ms'],
    ['FORWARD_SERVER_ERROR_ATTEMPTS', '0'],
    ['FORWARD_SERVER_ERROR_ATTEMPTS', '101'],
    ['EXPERIENCE_API_ALERT_AFTER', 'soon'],
    ['OUTBOX_RETENTION', '999ms'],
    ['SOURCE_LEASE_TTL', '500ms'],
    ['ALERT_EMAIL_FROM', 'nobody'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const problems = problemsLoading({ [name]: value });

    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
  });

  it.each([
    ['FORWARD_RETRY_MAX', '61m', '1h'],
    ['EXPERIENCE_API_ALERT_AFTER', '8d', '7d'],
    ['OUTBOX_RETENTION', '366d', '365d'],
    ['SOURCE_LEASE_TTL', '30d', '1h'],
    ['ALERT_FOLD_WINDOW', '30d', '1d'],
  ])('refuses %s=%s, above its maximum, naming the variable and the maximum', (name, value, max) => {
    expect(problemsLoading({ [name]: value })).toEqual([`${name}: must be at most ${max} (got "${value}")`]);
  });

  it('accepts each duration at its maximum, and every timer stays within what Node honours', () => {
    const config = inEmptyFolder(() =>
      sut({ FORWARD_RETRY_MAX: '1h', EXPERIENCE_API_ALERT_AFTER: '7d', OUTBOX_RETENTION: '365d', SOURCE_LEASE_TTL: '1h', ALERT_FOLD_WINDOW: '1d' }),
    );

    for (const timer of [config.forwardRetryMaxMs, config.sourceLeaseMs, config.alerts.foldWindowMs]) {
      expect(timer).toBeLessThanOrEqual(MAX_TIMER_MS);
    }
    expect(config.outboxRetentionMs).toBe(365 * 86_400_000);
  });

  it('reads the sources of SOURCES_FILE with the variables', () => {
    const file = join(dir, 'one-source.yaml');
    writeFileSync(file, '- name: inbox\n  type: directory\n  path: ./in\n  interval: 1d\n');

    expect(sut({ SOURCES_FILE: file }).sources).toMatchObject([{ name: 'inbox', type: 'directory', intervalMs: 86_400_000 }]);
    expect(inEmptyFolder(() => sut({})).sources).toEqual([]);
  });

  it('reports the problems of the sources file with those of the variables, at once, each source problem led by the file', () => {
    const file = join(dir, 'bad-sources.yaml');
    writeFileSync(file, '- name: feed\n  type: http\n  url: ftp://feed\n  intervall: 5s\n  auth:\n    bearer_env: FEED_TOKEN\n');

    const problems = problemsLoading({ SOURCES_FILE: file, PORT: 'http', DATABASE_URL: 'mysql://app:DbPassw0rd@db/push', FEED_TOKEN: '' });

    expect(problems).toEqual([
      'PORT: must be a whole number from 0 to 65535 (got "http")',
      'DATABASE_URL: must be a URL starting with postgres:// or postgresql://',
      `${file}: sources[0] (feed).intervall: unknown key, did you mean "interval"?`,
      `${file}: sources[0] (feed).url: must be a URL starting with http:// or https://`,
      `${file}: sources (feed): environment variable FEED_TOKEN is not set`,
    ]);
    expect(problems.join('\n')).not.toContain('DbPassw0rd');
  });

  it('keeps the line and the excerpt of a sources file that is not YAML under its problem', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, '- name: inbox\n  type: directory\n  type: http\n');

    expect(problemsLoading({ SOURCES_FILE: file })).toEqual([
      [`${file}: line 3, column 3: not valid YAML or JSON: Map keys must be unique`, '      type: directory', '      type: http', '      ^'].join('\n'),
    ]);
  });

  it('reports every bad variable at once, one problem each, each led by its name, never echoing a password', () => {
    const env = {
      PORT: '-1',
      EXPERIENCE_API_URL: 'ftp://experience:ExpPassw0rd@host',
      DATABASE_URL: 'mysql://app:DbPassw0rd@db/push',
      SOURCES_FILE: join(dir, 'missing.yaml'),
      FORWARD_BATCH: 'many',
      FORWARD_RETRY_MAX: '1ms',
      EXPERIENCE_API_ALERT_AFTER: '0',
      OUTBOX_RETENTION: 'forever',
      SOURCE_LEASE_TTL: '10ms',
      SMTP_URL: 'http://alerts:Sm7pPass@mail.example.test',
      ALERT_EMAIL_TO: 'oncall',
    };

    const problems = problemsLoading(env);

    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':'))).sort()).toEqual(Object.keys(env).sort());
    expect(problems.join('\n')).not.toMatch(/ExpPassw0rd|DbPassw0rd|Sm7pPass/);
  });
});
