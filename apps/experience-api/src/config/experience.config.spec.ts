import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, MAX_TIMER_MS } from '@app/platform';
import { loadExperienceConfig } from './experience.config.js';

const GOOD_ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** The problems loading reports; fails the test if loading succeeds. */
function problemsLoading(env: Record<string, string>): readonly string[] {
  try {
    loadExperienceConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems;
  }
  throw new Error('the configuration was accepted');
}

describe(loadExperienceConfig.name, () => {
  const sut = loadExperienceConfig;

  it('applies the documented defaults to an empty environment', () => {
    const config = sut({});

    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      production: false,
      pgliteDataDir: './data/experience-api',
      tokenIdleTtlMs: 30 * 86_400_000,
      socketLeaseMs: 45_000,
      pingIntervalMs: 30_000,
      handshakeRatePerSecond: 50,
      handshakeBurst: 200,
      maxInboundFrameBytes: 4_096,
      maxBufferedBytes: 8 * 1_048_576,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.tls).toBeUndefined();
    expect(config.instanceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(config.entityAllowedCidrs.entries).toEqual(['127.0.0.1/32', '::1/128']);
    expect(config.entityAllowedCidrs.contains('127.0.0.1')).toBe(true);
    expect(config.entityAllowedCidrs.contains('::1')).toBe(true);
    expect(config.entityAllowedCidrs.contains('10.0.0.1')).toBe(false);
    expect(config.trustProxy.isEmpty).toBe(true);
  });

  it('serves the API documents outside production unless API_DOCS says otherwise', () => {
    expect(sut({}).apiDocs).toBe(true);
    expect(sut({ NODE_ENV: 'production' }).apiDocs).toBe(false);
    expect(sut({ NODE_ENV: 'production', API_DOCS: 'true' }).apiDocs).toBe(true);
    expect(sut({ API_DOCS: 'false' }).apiDocs).toBe(false);
    expect(problemsLoading({ API_DOCS: 'yes' })).toEqual([expect.stringMatching(/^API_DOCS: must be one of true, false/)]);
  });

  it('reads every variable given', () => {
    const config = sut({
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: '8443',
      INSTANCE_ID: 'eu-1',
      DATABASE_URL: 'postgresql://app:pw@db:5432/push',
      PGLITE_DATA_DIR: 'memory://',
      ADMIN_TOKEN: GOOD_ADMIN_TOKEN,
      TOKEN_IDLE_TTL: '12h',
      SOCKET_LEASE_TTL: '90s',
      ENTITY_ALLOWED_CIDRS: '10.0.0.0/8',
      TRUST_PROXY: '10.1.0.0/16',
      HANDSHAKE_RATE_PER_SECOND: '0',
      HANDSHAKE_BURST: '5',
      WS_PING_INTERVAL: '500ms',
      WS_MAX_INBOUND_FRAME: '125',
      WS_MAX_BUFFERED_BYTES: '65536',
    });

    expect(config).toMatchObject({
      production: true,
      host: '0.0.0.0',
      port: 8443,
      instanceId: 'eu-1',
      pgliteDataDir: 'memory://',
      adminToken: GOOD_ADMIN_TOKEN,
      adminTokenGenerated: false,
      tokenIdleTtlMs: 12 * 3_600_000,
      socketLeaseMs: 90_000,
      handshakeRatePerSecond: 0,
      handshakeBurst: 5,
      pingIntervalMs: 500,
      maxInboundFrameBytes: 125,
      maxBufferedBytes: 65_536,
    });
    expect(config.databaseUrl?.host).toBe('db:5432');
    expect(config.entityAllowedCidrs.contains('10.9.9.9')).toBe(true);
    expect(config.entityAllowedCidrs.contains('127.0.0.1')).toBe(false);
    expect(config.trustProxy.contains('10.1.2.3')).toBe(true);
  });

  describe('admin token', () => {
    it('disables the admin API in production when ADMIN_TOKEN is not set', () => {
      const config = sut({ NODE_ENV: 'production' });

      expect(config.production).toBe(true);
      expect(config.adminToken).toBeUndefined();
      expect(config.adminTokenGenerated).toBe(false);
    });

    it('makes up a strong token for a development run without ADMIN_TOKEN', () => {
      const first = sut({ NODE_ENV: 'development' });
      const second = sut({});

      expect(first.adminTokenGenerated).toBe(true);
      expect(first.adminToken?.length).toBeGreaterThanOrEqual(32);
      expect(second.adminTokenGenerated).toBe(true);
      expect(second.adminToken).not.toBe(first.adminToken);
    });

    it('uses the ADMIN_TOKEN given, in production as in development', () => {
      expect(sut({ NODE_ENV: 'production', ADMIN_TOKEN: GOOD_ADMIN_TOKEN })).toMatchObject({
        adminToken: GOOD_ADMIN_TOKEN,
        adminTokenGenerated: false,
      });
      expect(sut({ ADMIN_TOKEN: GOOD_ADMIN_TOKEN })).toMatchObject({ adminToken: GOOD_ADMIN_TOKEN, adminTokenGenerated: false });
    });

    it.each([['production'], ['development']])('refuses a short ADMIN_TOKEN in %s without echoing it', (nodeEnv) => {
      const problems = problemsLoading({ NODE_ENV: nodeEnv, ADMIN_TOKEN: 'tooShort99' });

      expect(problems).toEqual([expect.stringMatching(/^ADMIN_TOKEN: /)]);
      expect(problems.join('\n')).not.toContain('tooShort99');
    });
  });

  describe('inbound paths (INBOUND_PATHS)', () => {
    it('has none by default, with the documented limits', () => {
      expect(loadExperienceConfig({})).toMatchObject({ inboundPaths: [], inboundMaxMessageBytes: 65_536, inboundMessagesPerSecond: 20 });
    });

    it('reads a comma-separated list of paths and their limits', () => {
      const config = loadExperienceConfig({ INBOUND_PATHS: '/ws/chat, /ws/commands', INBOUND_MAX_MESSAGE_BYTES: '1024', INBOUND_MESSAGES_PER_SECOND: '5' });

      expect(config).toMatchObject({ inboundPaths: ['/ws/chat', '/ws/commands'], inboundMaxMessageBytes: 1_024, inboundMessagesPerSecond: 5 });
    });

    it.each([
      ['/ws/publish', '/ws/publish is where consumers only listen'],
      ['ws/chat', 'is not a path'],
      ['/ws/chat,/ws/chat', 'named twice'],
      ['/ws/chat?x=1', 'is not a path'],
    ])('refuses %s, naming INBOUND_PATHS', (paths, message) => {
      expect(problemsLoading({ INBOUND_PATHS: paths })).toEqual([
        expect.stringMatching(new RegExp(`^INBOUND_PATHS: .*${message.replace(/[.?*+/]/g, '\\$&')}`)),
      ]);
    });
  });

  describe('cluster (REDIS_URL)', () => {
    const postgres = 'postgres://app@db/push';

    it('runs alone, in process, without REDIS_URL', () => {
      expect(loadExperienceConfig({}).cluster).toBeUndefined();
    });

    it('joins the cluster on REDIS_URL with a shared Postgres, with the documented defaults', () => {
      const config = loadExperienceConfig({ REDIS_URL: 'redis://cache:6379/2', DATABASE_URL: postgres });

      expect(config.cluster).toEqual({ redisUrl: new URL('redis://cache:6379/2'), keyPrefix: 'push-gateway:', streamLength: 10_000, opTimeoutMs: 2_000 });
    });

    it('reads the key prefix, stream length and operation timeout', () => {
      const config = loadExperienceConfig({
        REDIS_URL: 'rediss://cache:6380',
        DATABASE_URL: postgres,
        REDIS_KEY_PREFIX: 'eu:',
        CLUSTER_STREAM_LENGTH: '500',
        CLUSTER_OP_TIMEOUT: '750ms',
      });

      expect(config.cluster).toMatchObject({ keyPrefix: 'eu:', streamLength: 500, opTimeoutMs: 750 });
    });

    it('refuses REDIS_URL on the embedded database, which one process alone can open', () => {
      const problems = problemsLoading({ REDIS_URL: 'redis://cache:6379' });

      expect(problems).toEqual([expect.stringMatching(/^REDIS_URL: .*DATABASE_URL/)]);
    });

    it('refuses a REDIS_URL that is not redis:// or rediss://, naming it, without echoing its value', () => {
      const problems = problemsLoading({ REDIS_URL: 'http://:RedisPassw0rd@cache:6379', DATABASE_URL: postgres });

      expect(problems).toEqual([expect.stringMatching(/^REDIS_URL: /)]);
      expect(problems.join('\n')).not.toContain('RedisPassw0rd');
    });
  });

  describe('webhooks (WEBHOOK_*)', () => {
    const SECRET = 'webhook-secret-0123456789';

    it('posts no webhook and asks no connect handler without WEBHOOK_URL and WEBHOOK_CONNECT_URL', () => {
      const config = loadExperienceConfig({});

      expect(config.webhooks).toBeUndefined();
      expect(config.connectHandler).toBeUndefined();
    });

    it('posts to WEBHOOK_URL with the documented defaults', () => {
      const config = loadExperienceConfig({ WEBHOOK_URL: 'https://hooks.example.com/push', WEBHOOK_SECRET: SECRET });

      expect(config.webhooks).toEqual({
        url: new URL('https://hooks.example.com/push'),
        events: ['connected', 'disconnected', 'message', 'outbound_message'],
        secret: SECRET,
        timeoutMs: 5_000,
        retries: 5,
        retryInitialDelayMs: 1_000,
        retryMaxDelayMs: 60_000,
        queueLimit: 10_000,
        concurrency: 4,
      });
      expect(config.connectHandler).toBeUndefined();
    });

    it('reads every webhook variable given', () => {
      const config = loadExperienceConfig({
        WEBHOOK_URL: 'http://127.0.0.1:9000/events',
        WEBHOOK_EVENTS: 'disconnected, entity_published',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_TIMEOUT: '750ms',
        WEBHOOK_RETRIES: '0',
        WEBHOOK_RETRY_INITIAL_DELAY: '200ms',
        WEBHOOK_RETRY_MAX_DELAY: '10s',
        WEBHOOK_QUEUE_LIMIT: '50',
        WEBHOOK_CONCURRENCY: '1',
        WEBHOOK_CONNECT_URL: 'http://127.0.0.1:9000/connect',
        WEBHOOK_CONNECT_TIMEOUT: '500ms',
        WEBHOOK_CONNECT_FAILURE: 'allow',
      });

      expect(config.webhooks).toEqual({
        url: new URL('http://127.0.0.1:9000/events'),
        events: ['disconnected', 'entity_published'],
        secret: SECRET,
        timeoutMs: 750,
        retries: 0,
        retryInitialDelayMs: 200,
        retryMaxDelayMs: 10_000,
        queueLimit: 50,
        concurrency: 1,
      });
      expect(config.connectHandler).toEqual({ url: new URL('http://127.0.0.1:9000/connect'), secret: SECRET, timeoutMs: 500, failure: 'allow' });
    });

    it('asks a connect handler alone, denying when it cannot answer in 2 s by default', () => {
      const config = loadExperienceConfig({ WEBHOOK_CONNECT_URL: 'https://auth.example.com/connect', WEBHOOK_SECRET: SECRET });

      expect(config.webhooks).toBeUndefined();
      expect(config.connectHandler).toEqual({ url: new URL('https://auth.example.com/connect'), secret: SECRET, timeoutMs: 2_000, failure: 'deny' });
    });

    it('needs a secret of 16 characters at least, and never echoes it', () => {
      expect(problemsLoading({ WEBHOOK_URL: 'https://hooks.example.com' })).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: is required/)]);
      expect(problemsLoading({ WEBHOOK_CONNECT_URL: 'https://hooks.example.com' })).toEqual([expect.stringMatching(/^WEBHOOK_SECRET: is required/)]);
      const short = problemsLoading({ WEBHOOK_URL: 'https://hooks.example.com', WEBHOOK_SECRET: 'sh0rtSecret' });
      expect(short).toEqual(['WEBHOOK_SECRET: must be at least 16 characters long']);
    });

    it('refuses what is not an http(s) URL, an unknown event, a failure policy other than deny or allow, naming each variable', () => {
      const problems = problemsLoading({
        WEBHOOK_URL: 'ftp://hooks.example.com',
        WEBHOOK_CONNECT_URL: 'hooks.example.com/connect',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_EVENTS: 'connected,closed',
        WEBHOOK_CONNECT_FAILURE: 'maybe',
        WEBHOOK_QUEUE_LIMIT: '0',
        WEBHOOK_RETRY_INITIAL_DELAY: '1m',
        WEBHOOK_RETRY_MAX_DELAY: '10s',
      });

      expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
        'WEBHOOK_CONNECT_FAILURE',
        'WEBHOOK_CONNECT_URL',
        'WEBHOOK_EVENTS',
        'WEBHOOK_QUEUE_LIMIT',
        'WEBHOOK_RETRY_MAX_DELAY',
        'WEBHOOK_URL',
      ]);
      expect(problems).toContain(
        'WEBHOOK_EVENTS: "closed" is not an event; the events are connected, disconnected, message, outbound_message, entity_published',
      );
    });
  });

  describe('TLS', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'experience-config-'));
      writeFileSync(join(dir, 'cert.pem'), 'CERT');
      writeFileSync(join(dir, 'key.pem'), 'KEY');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads the certificate and key files', () => {
      const config = sut({ TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') });

      expect(config.tls?.cert.toString()).toBe('CERT');
      expect(config.tls?.key.toString()).toBe('KEY');
    });

    it('refuses a certificate without a key, naming the missing variable', () => {
      expect(problemsLoading({ TLS_CERT_FILE: join(dir, 'cert.pem') })).toEqual(['TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together']);
      expect(problemsLoading({ TLS_KEY_FILE: join(dir, 'key.pem') })).toEqual(['TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together']);
    });

    it('refuses files that cannot be read', () => {
      const problems = problemsLoading({ TLS_CERT_FILE: join(dir, 'nope.pem'), TLS_KEY_FILE: join(dir, 'key.pem') });

      expect(problems).toEqual([expect.stringMatching(/^TLS_CERT_FILE: cannot read ".*nope\.pem" \(ENOENT\)$/)]);
    });
  });

  describe('alert mail', () => {
    it('logs alerts only when SMTP_URL is not set', () => {
      expect(loadExperienceConfig({}).alerts).toMatchObject({ smtpUrl: undefined, to: [], foldWindowMs: 300_000, maxMailsPerHour: 30 });
    });

    it('reads the SMTP server, the recipients, the sender and the folding settings', () => {
      const config = loadExperienceConfig({
        SMTP_URL: 'smtps://alerts:Sm7pPass@mail.example.test:465',
        ALERT_EMAIL_TO: 'oncall@example.test, lead@example.test',
        ALERT_EMAIL_FROM: 'gateway@example.test',
        ALERT_FOLD_WINDOW: '2m',
        ALERT_MAX_PER_HOUR: '12',
      });
      expect(config.alerts).toMatchObject({
        to: ['oncall@example.test', 'lead@example.test'],
        from: 'gateway@example.test',
        foldWindowMs: 120_000,
        maxMailsPerHour: 12,
      });
      expect(config.alerts.smtpUrl?.host).toBe('mail.example.test:465');
    });

    it('needs ALERT_EMAIL_TO with SMTP_URL, and refuses what is not an address, never echoing the SMTP password', () => {
      const missing = problemsLoading({ SMTP_URL: 'smtp://alerts:Sm7pPass@mail.example.test' });
      expect(missing).toEqual([expect.stringMatching(/^ALERT_EMAIL_TO: is required/)]);
      const bad = problemsLoading({ SMTP_URL: 'http://alerts:Sm7pPass@mail.example.test', ALERT_EMAIL_TO: 'oncall', ALERT_EMAIL_FROM: 'me' });
      expect(bad.map((problem) => problem.split(':')[0]).sort()).toEqual(['ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO', 'SMTP_URL']);
      expect([...missing, ...bad].join('\n')).not.toContain('Sm7pPass');
    });
  });

  it.each([
    ['TOKEN_IDLE_TTL', '366d', '365d'],
    ['SOCKET_LEASE_TTL', '2h', '1h'],
    ['WS_PING_INTERVAL', '30d', '1h'],
    ['HEALTH_CHECK_INTERVAL', '25d', '1h'],
    ['ALERT_FOLD_WINDOW', '30d', '1d'],
  ])('refuses %s=%s, above its maximum, naming the variable and the maximum', (name, value, max) => {
    expect(problemsLoading({ [name]: value })).toEqual([`${name}: must be at most ${max} (got "${value}")`]);
  });

  it('accepts each duration at its maximum; a token may idle a year, and every timer stays within what Node honours', () => {
    const config = sut({ TOKEN_IDLE_TTL: '365d', SOCKET_LEASE_TTL: '1h', WS_PING_INTERVAL: '1h', HEALTH_CHECK_INTERVAL: '1h', ALERT_FOLD_WINDOW: '1d' });

    expect(config.tokenIdleTtlMs).toBe(365 * 86_400_000);
    for (const timer of [config.socketLeaseMs, config.pingIntervalMs, config.healthCheckIntervalMs, config.alerts.foldWindowMs]) {
      expect(timer).toBeLessThanOrEqual(MAX_TIMER_MS);
    }
  });

  it('takes a burst of 0 as the README says: no limit, like a rate of 0', () => {
    const config = sut({ HANDSHAKE_BURST: '0', REGISTRATION_BURST: '0', REGISTRATION_CLIENT_BURST: '0' });

    expect(config).toMatchObject({ handshakeBurst: 0, registrationBurst: 0, registrationClientBurst: 0 });
  });

  it('writes log lines at LOG_LEVEL and in LOG_FORMAT, text at level log by default', () => {
    expect(sut({}).logging).toEqual({ level: 'log', format: 'text', noColor: false });
    expect(sut({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json', NO_COLOR: '1' }).logging).toEqual({ level: 'debug', format: 'json', noColor: true });
    expect(sut({ LOG_LEVEL: 'info' }).logging.level).toBe('info');
  });

  it('refuses an unknown LOG_LEVEL or LOG_FORMAT, one line each naming the variable and the choices', () => {
    const problems = problemsLoading({ LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' });

    expect(problems).toEqual([
      'LOG_LEVEL: must be one of error, warn, log, info, debug, verbose (got "loud")',
      'LOG_FORMAT: must be one of text, json (got "xml")',
    ]);
  });

  it('reports every bad variable at once, one problem each, each led by its name', () => {
    const env = {
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'short',
      REDIS_URL: 'http://cache:6379',
      PORT: '70000',
      DATABASE_URL: 'mysql://app:DbPassw0rd@db/push',
      TOKEN_IDLE_TTL: 'forever',
      SOCKET_LEASE_TTL: '1s',
      ENTITY_ALLOWED_CIDRS: '10.0.0.0/8, intranet',
      TRUST_PROXY: '10.0.0.0/40',
      HANDSHAKE_RATE_PER_SECOND: '-1',
      HANDSHAKE_BURST: '-1',
      WS_PING_INTERVAL: '10ms',
      WS_MAX_INBOUND_FRAME: '124',
      WS_MAX_BUFFERED_BYTES: 'lots',
    };

    const problems = problemsLoading(env);

    const named = Object.keys(env).filter((name) => name !== 'NODE_ENV');
    expect(problems.map((problem) => problem.slice(0, problem.indexOf(':'))).sort()).toEqual([...named].sort());
    expect(problems.join('\n')).not.toContain('DbPassw0rd');
  });
});
