import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { alertingConfig, type AlertSettings } from '@app/alerting';
import { ConfigReader, configNamespace, type LogSettings, readApiDocs, readLogSettings, readTlsFiles, type TlsFiles } from '@app/platform';
import type { SourceDefinition } from '../sources/source-definition.js';
import { readSourcesFile } from './sources-file.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** system-api's settings, validated once at start; nothing else reads the environment. */
export interface SystemConfig {
  /** The address to listen on: loopback by default, `0.0.0.0` in a container. */
  readonly host: string;
  readonly port: number;
  /** Serve the OpenAPI document and Swagger UI at `/docs` (API_DOCS; on unless NODE_ENV=production). */
  readonly apiDocs: boolean;
  readonly instanceId: string;
  readonly databaseUrl?: URL;
  readonly pgliteDataDir: string;
  readonly tls?: TlsFiles;
  /** Where `POST /entity` lives. */
  readonly experienceApiUrl: URL;
  /** Undefined: no sources file was given and `./sources.yaml` does not exist. */
  readonly sourcesFile?: string;
  /** The sources of `sourcesFile`, validated with the variables. */
  readonly sources: readonly SourceDefinition[];
  readonly alerts: AlertSettings;
  /** Items forwarded per round, per source. */
  readonly forwardBatch: number;
  readonly forwardRetryMaxMs: number;
  /** Attempts an item gets when experience-api answers it with a 5xx other than 502/503/504; then it is a dead letter. */
  readonly forwardServerErrorAttempts: number;
  /** experience-api unreachable this long raises an alert. */
  readonly experienceApiAlertAfterMs: number;
  /** Delivered items are kept this long, then pruned. */
  readonly outboxRetentionMs: number;
  /** How long this instance's hold on a source lasts without renewal. */
  readonly sourceLeaseMs: number;
  /** How often the database is probed, to alert when it becomes unreachable and when it is back. */
  readonly healthCheckIntervalMs: number;
  readonly logging: LogSettings;
  /** The environment, for sources that name variables holding their credentials. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** system-api's namespace: every variable of docs/configuration.md and the sources file, read through the shared schema layer. */
export const systemConfig = configNamespace('system', (read): SystemConfig => {
  const env = read.environment();
  const experienceApiUrl = read.url('EXPERIENCE_API_URL', ['http:', 'https:']) ?? new URL('http://127.0.0.1:3000');
  const sourcesFile = read.string('SOURCES_FILE') ?? (existsSync('./sources.yaml') ? './sources.yaml' : undefined);
  const sourcesFileExists = sourcesFile !== undefined && existsSync(sourcesFile);
  if (sourcesFile !== undefined && !sourcesFileExists) read.problem('SOURCES_FILE', `"${sourcesFile}" does not exist`);
  return {
    host: read.string('HOST', '127.0.0.1'),
    port: read.integer('PORT', 3001, { min: 0, max: 65_535 }),
    apiDocs: readApiDocs(read, read.string('NODE_ENV') === 'production'),
    instanceId: read.string('INSTANCE_ID', randomUUID()),
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    pgliteDataDir: read.string('PGLITE_DATA_DIR', './data/system-api'),
    tls: readTlsFiles(read),
    experienceApiUrl,
    sourcesFile,
    sources: sourcesFileExists ? readSourcesFile(read, sourcesFile, env) : [],
    alerts: alertingConfig(read),
    forwardBatch: read.integer('FORWARD_BATCH', 100, { min: 1, max: 10_000 }),
    forwardRetryMaxMs: read.duration('FORWARD_RETRY_MAX', '30s', { minMs: 100, maxMs: HOUR_MS }),
    forwardServerErrorAttempts: read.integer('FORWARD_SERVER_ERROR_ATTEMPTS', 5, { min: 1, max: 100 }),
    experienceApiAlertAfterMs: read.duration('EXPERIENCE_API_ALERT_AFTER', '60s', { minMs: 100, maxMs: 7 * DAY_MS }),
    outboxRetentionMs: read.duration('OUTBOX_RETENTION', '7d', { minMs: 1_000, maxMs: 365 * DAY_MS }),
    sourceLeaseMs: read.duration('SOURCE_LEASE_TTL', '30s', { minMs: 1_000, maxMs: HOUR_MS }),
    healthCheckIntervalMs: read.duration('HEALTH_CHECK_INTERVAL', '5s', { minMs: 100, maxMs: HOUR_MS }),
    logging: readLogSettings(read),
    env,
  };
});

/**
 * Builds the configuration from environment variables (docs/configuration.md) and the sources
 * file they name, throwing one ConfigurationError with every problem of both, one a line.
 */
export function loadSystemConfig(env: Readonly<Record<string, string | undefined>>): SystemConfig {
  const read = ConfigReader.env(env);
  const config = systemConfig(read);
  read.finish();
  return config;
}
