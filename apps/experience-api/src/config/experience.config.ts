import { randomUUID } from 'node:crypto';
import { alertingConfig, type AlertSettings } from '@app/alerting';
import {
  AddressList,
  ConfigReader,
  configNamespace,
  type LogSettings,
  randomCredential,
  readApiDocs,
  readLogSettings,
  readTlsFiles,
  type TlsFiles,
} from '@app/platform';
import { CONSUMER_PATH } from '../protocol/consumer-endpoint.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** experience-api's settings, validated once at start; nothing else reads the environment. */
export interface ExperienceConfig {
  /** The address to listen on: loopback by default, `0.0.0.0` in a container. */
  readonly host: string;
  readonly port: number;
  readonly production: boolean;
  /** Serve the OpenAPI document and Swagger UI at `/docs` (API_DOCS; on outside production). */
  readonly apiDocs: boolean;
  readonly instanceId: string;
  readonly databaseUrl?: URL;
  readonly pgliteDataDir: string;
  /** Undefined: the admin API answers 404. */
  readonly adminToken?: string;
  /** True when no ADMIN_TOKEN was given and one was made up for development (see keepDevelopmentAdminToken). */
  readonly adminTokenGenerated: boolean;
  /** system-api's base URL, whose health the operator console shows (SYSTEM_API_URL); unset: the console leaves it out. */
  readonly systemApiUrl?: URL;
  readonly tokenIdleTtlMs: number;
  readonly socketLeaseMs: number;
  readonly entityAllowedCidrs: AddressList;
  readonly trustProxy: AddressList;
  readonly tls?: TlsFiles;
  /** WebSocket handshakes per address, a second and in a burst; either at 0 turns the limit off. */
  readonly handshakeRatePerSecond: number;
  readonly handshakeBurst: number;
  /** `POST /consumers` attempts per address, a minute and in a burst; either at 0 turns the limit off. */
  readonly registrationRatePerMinute: number;
  readonly registrationBurst: number;
  /** `POST /consumers` attempts per client id, a minute and in a burst; either at 0 turns the limit off. */
  readonly registrationClientRatePerMinute: number;
  readonly registrationClientBurst: number;
  readonly pingIntervalMs: number;
  /** Pings a consumer may send a second (in bursts of as many); more is a flood. */
  readonly maxPingsPerSecond: number;
  readonly maxInboundFrameBytes: number;
  readonly maxBufferedBytes: number;
  readonly alerts: AlertSettings;
  /** How often the database is probed, to alert when it becomes unreachable and when it is back. */
  readonly healthCheckIntervalMs: number;
  readonly logging: LogSettings;
  /** Set: several instances act as one over Redis (see ClusterModule); unset: this instance alone, in process. */
  readonly cluster?: ClusterSettings;
  /** Paths besides /ws/publish where consumers connect the same way and may send messages (INBOUND_PATHS). */
  readonly inboundPaths: readonly string[];
  /** The largest message a consumer may send on an inbound path. */
  readonly inboundMaxMessageBytes: number;
  /** Messages a consumer may send a second on an inbound path, in bursts of as many. */
  readonly inboundMessagesPerSecond: number;
  /** Set (WEBHOOK_URL): the triggers named in WEBHOOK_EVENTS are posted there (docs/webhooks.md). */
  readonly webhooks?: WebhookSettings;
  /** Set (WEBHOOK_CONNECT_URL): every consumer handshake asks it first (docs/webhooks.md). */
  readonly connectHandler?: ConnectHandlerSettings;
  readonly history: HistorySettings;
}

/** The entity history consumers recover from (docs/protocol.md, "Recovering missed entities"). */
export interface HistorySettings {
  /** How long an entity stays recoverable. */
  readonly retentionMs: number;
  /** The most entities kept; the oldest go first. */
  readonly maxEntities: number;
  /** How often entities past either limit are pruned. */
  readonly pruneIntervalMs: number;
  /** The newest entities each instance keeps in memory too, so that a short gap is recovered without the database. */
  readonly cacheEntities: number;
  /** The most entities one reconnect replays; a longer gap is answered `recovered: false` (`too_many`). */
  readonly maxRecovery: number;
}

/** The events a webhook may be sent, by their names in WEBHOOK_EVENTS and in the payload's `event`. */
export const WEBHOOK_EVENTS = ['connected', 'disconnected', 'message', 'outbound_message', 'entity_published'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];
const DEFAULT_WEBHOOK_EVENTS = 'connected,disconnected,message,outbound_message';

export interface WebhookSettings {
  readonly url: URL;
  readonly events: readonly WebhookEventName[];
  /** Keys the HMAC-SHA256 signature of every call; never logged. */
  readonly secret: string;
  /** One attempt's limit, answer included. */
  readonly timeoutMs: number;
  /** Attempts after the first before a delivery is given up. */
  readonly retries: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** Deliveries waiting or in flight; over it the oldest waiting one is dropped. */
  readonly queueLimit: number;
  /** Deliveries in flight at once (each waiting out its retries); 1 keeps the order of events. */
  readonly concurrency: number;
}

export interface ConnectHandlerSettings {
  readonly url: URL;
  readonly secret: string;
  readonly timeoutMs: number;
  /** What a handler that cannot answer (down, slow, a bad answer) means: refuse with 503, or admit as if it said yes. */
  readonly failure: 'deny' | 'allow';
}

export interface ClusterSettings {
  readonly redisUrl: URL;
  /** Starts every key and channel, so that several deployments can share one Redis. */
  readonly keyPrefix: string;
  /** Entities kept in the stream (trimmed approximately): how far an instance cut off from Redis can catch up. */
  readonly streamLength: number;
  /** How long a cluster-wide socket operation waits for the other instances' answers. */
  readonly opTimeoutMs: number;
}

/** experience-api's namespace: every variable of docs/configuration.md, read through the shared schema layer. */
export const experienceConfig = configNamespace('experience', (read): ExperienceConfig => {
  const production = read.string('NODE_ENV') === 'production';

  const givenAdminToken = read.secret('ADMIN_TOKEN', 16);
  const adminTokenGenerated = givenAdminToken === undefined && !production;

  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = read.url('REDIS_URL', ['redis:', 'rediss:']);
  if (redisUrl !== undefined && databaseUrl === undefined && read.string('DATABASE_URL') === undefined) {
    read.problem('REDIS_URL', 'several instances need one shared Postgres: set DATABASE_URL too (the embedded PGlite serves one process)');
  }

  return {
    host: read.string('HOST', '127.0.0.1'),
    port: read.integer('PORT', 3000, { min: 0, max: 65_535 }),
    production,
    apiDocs: readApiDocs(read, production),
    instanceId: read.string('INSTANCE_ID', randomUUID()),
    databaseUrl,
    pgliteDataDir: read.string('PGLITE_DATA_DIR', './data/experience-api'),
    adminToken: givenAdminToken ?? (adminTokenGenerated ? randomCredential(24) : undefined),
    adminTokenGenerated,
    systemApiUrl: read.url('SYSTEM_API_URL', ['http:', 'https:']),
    tokenIdleTtlMs: read.duration('TOKEN_IDLE_TTL', '30d', { minMs: 1_000, maxMs: 365 * DAY_MS }),
    socketLeaseMs: read.duration('SOCKET_LEASE_TTL', '45s', { minMs: 3_000, maxMs: HOUR_MS }),
    entityAllowedCidrs: read.addressList('ENTITY_ALLOWED_CIDRS', '127.0.0.1/32,::1/128'),
    trustProxy: read.addressList('TRUST_PROXY', ''),
    tls: readTlsFiles(read),
    handshakeRatePerSecond: read.integer('HANDSHAKE_RATE_PER_SECOND', 50, { min: 0, max: 1_000_000 }),
    handshakeBurst: read.integer('HANDSHAKE_BURST', 200, { min: 0, max: 1_000_000 }),
    registrationRatePerMinute: read.integer('REGISTRATION_RATE_PER_MINUTE', 30, { min: 0, max: 1_000_000 }),
    registrationBurst: read.integer('REGISTRATION_BURST', 10, { min: 0, max: 1_000_000 }),
    registrationClientRatePerMinute: read.integer('REGISTRATION_CLIENT_RATE_PER_MINUTE', 6, { min: 0, max: 1_000_000 }),
    registrationClientBurst: read.integer('REGISTRATION_CLIENT_BURST', 3, { min: 0, max: 1_000_000 }),
    pingIntervalMs: read.duration('WS_PING_INTERVAL', '30s', { minMs: 100, maxMs: HOUR_MS }),
    maxPingsPerSecond: read.integer('WS_MAX_PINGS_PER_SECOND', 10, { min: 1, max: 10_000 }),
    maxInboundFrameBytes: read.integer('WS_MAX_INBOUND_FRAME', 4_096, { min: 125, max: 1_048_576 }),
    maxBufferedBytes: read.integer('WS_MAX_BUFFERED_BYTES', 8 * 1_048_576, { min: 65_536, max: 1_073_741_824 }),
    inboundPaths: readInboundPaths(read),
    inboundMaxMessageBytes: read.integer('INBOUND_MAX_MESSAGE_BYTES', 65_536, { min: 125, max: 1_048_576 }),
    inboundMessagesPerSecond: read.integer('INBOUND_MESSAGES_PER_SECOND', 20, { min: 1, max: 10_000 }),
    alerts: alertingConfig(read),
    healthCheckIntervalMs: read.duration('HEALTH_CHECK_INTERVAL', '5s', { minMs: 100, maxMs: HOUR_MS }),
    logging: readLogSettings(read),
    cluster: redisUrl && {
      redisUrl,
      keyPrefix: read.string('REDIS_KEY_PREFIX', 'push-gateway:'),
      streamLength: read.integer('CLUSTER_STREAM_LENGTH', 10_000, { min: 100, max: 10_000_000 }),
      opTimeoutMs: read.duration('CLUSTER_OP_TIMEOUT', '2s', { minMs: 100, maxMs: 60_000 }),
    },
    ...readWebhooks(read),
    history: {
      retentionMs: read.duration('HISTORY_RETENTION', '24h', { minMs: 1_000, maxMs: 365 * DAY_MS }),
      maxEntities: read.integer('HISTORY_MAX_ENTITIES', 1_000_000, { min: 1, max: 1_000_000_000 }),
      pruneIntervalMs: read.duration('HISTORY_PRUNE_INTERVAL', '1m', { minMs: 100, maxMs: DAY_MS }),
      cacheEntities: read.integer('HISTORY_CACHE_ENTITIES', 10_000, { min: 0, max: 1_000_000 }),
      maxRecovery: read.integer('RECOVERY_MAX_ENTITIES', 10_000, { min: 1, max: 1_000_000 }),
    },
  };
});

/** WEBHOOK_*: the event webhook and the connect handler, which share the signing secret. */
function readWebhooks(read: ConfigReader): Pick<ExperienceConfig, 'webhooks' | 'connectHandler'> {
  const url = read.url('WEBHOOK_URL', ['http:', 'https:']);
  const connectUrl = read.url('WEBHOOK_CONNECT_URL', ['http:', 'https:']);
  const secret = read.secret('WEBHOOK_SECRET', 16);
  const wanted = read.string('WEBHOOK_URL') !== undefined || read.string('WEBHOOK_CONNECT_URL') !== undefined;
  // a secret given but too short was reported by read.secret
  if (wanted && read.value('WEBHOOK_SECRET') === undefined) {
    read.problem('WEBHOOK_SECRET', 'is required with WEBHOOK_URL or WEBHOOK_CONNECT_URL: every call is signed with it');
  }
  const events = webhookEvents(read);
  const retryInitialDelayMs = read.duration('WEBHOOK_RETRY_INITIAL_DELAY', '1s', { minMs: 10, maxMs: HOUR_MS });
  const retryMaxDelayMs = read.duration('WEBHOOK_RETRY_MAX_DELAY', '1m', { minMs: 10, maxMs: HOUR_MS });
  if (retryMaxDelayMs < retryInitialDelayMs) read.problem('WEBHOOK_RETRY_MAX_DELAY', 'must be at least WEBHOOK_RETRY_INITIAL_DELAY');
  // every variable is read whether or not its URL is set, so that each problem shows at once
  const timeoutMs = read.duration('WEBHOOK_TIMEOUT', '5s', { minMs: 100, maxMs: 60_000 });
  const retries = read.integer('WEBHOOK_RETRIES', 5, { min: 0, max: 20 });
  const queueLimit = read.integer('WEBHOOK_QUEUE_LIMIT', 10_000, { min: 1, max: 1_000_000 });
  const concurrency = read.integer('WEBHOOK_CONCURRENCY', 4, { min: 1, max: 64 });
  const connectTimeoutMs = read.duration('WEBHOOK_CONNECT_TIMEOUT', '2s', { minMs: 50, maxMs: 30_000 });
  const failure = read.oneOf('WEBHOOK_CONNECT_FAILURE', 'deny', ['deny', 'allow'] as const);
  const webhooks: WebhookSettings | undefined = url && {
    url,
    events,
    secret: secret ?? '',
    timeoutMs,
    retries,
    retryInitialDelayMs,
    retryMaxDelayMs,
    queueLimit,
    concurrency,
  };
  const connectHandler: ConnectHandlerSettings | undefined = connectUrl && { url: connectUrl, secret: secret ?? '', timeoutMs: connectTimeoutMs, failure };
  return { webhooks, connectHandler };
}

/** WEBHOOK_EVENTS: a comma-separated list of event names, each once. */
function webhookEvents(read: ConfigReader): WebhookEventName[] {
  const names = (read.string('WEBHOOK_EVENTS') ?? DEFAULT_WEBHOOK_EVENTS)
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.find((name) => !(WEBHOOK_EVENTS as readonly string[]).includes(name));
  if (unknown !== undefined) {
    read.problem('WEBHOOK_EVENTS', `"${unknown.slice(0, 40)}" is not an event; the events are ${WEBHOOK_EVENTS.join(', ')}`);
    return [];
  }
  if (names.length === 0) {
    read.problem('WEBHOOK_EVENTS', `must name at least one of ${WEBHOOK_EVENTS.join(', ')}`);
    return [];
  }
  return [...new Set(names)] as WebhookEventName[];
}

/** A path consumers may connect to: `/` and up to 100 URL-safe characters. */
const INBOUND_PATH_PATTERN = /^\/[A-Za-z0-9._~/-]{1,100}$/;
const MAX_INBOUND_PATHS = 20;

/** INBOUND_PATHS: comma-separated, distinct, none of them /ws/publish (where consumers only listen). */
function readInboundPaths(read: ConfigReader): string[] {
  const given = read.string('INBOUND_PATHS');
  if (given === undefined || given.trim() === '') return [];
  const paths = given.split(',').map((path) => path.trim());
  const bad = paths.find((path) => !INBOUND_PATH_PATTERN.test(path));
  let problem: string | undefined;
  if (paths.length > MAX_INBOUND_PATHS) problem = `at most ${MAX_INBOUND_PATHS} paths`;
  else if (bad !== undefined) problem = `"${bad}" is not a path of the form /ws/chat`;
  else if (paths.includes(CONSUMER_PATH)) problem = `${CONSUMER_PATH} is where consumers only listen; name other paths`;
  else if (new Set(paths).size !== paths.length) problem = 'a path is named twice';
  if (problem === undefined) return paths;
  read.problem('INBOUND_PATHS', problem);
  return [];
}

/**
 * Builds the configuration from environment variables (docs/configuration.md),
 * throwing one ConfigurationError with every problem, one a line.
 */
export function loadExperienceConfig(env: Readonly<Record<string, string | undefined>>): ExperienceConfig {
  const read = ConfigReader.env(env);
  const config = experienceConfig(read);
  read.finish();
  return config;
}
