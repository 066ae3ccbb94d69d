import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The Postgres the suites use when DATABASE_URL is set; otherwise they run on embedded PGlite. */
export const databaseUrl: string | undefined = process.env.DATABASE_URL || undefined;

/** The machine's Postgres, for suites that need a real server whatever DATABASE_URL says. */
export const localPostgresUrl = databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test';

export const inCi = process.env.CI === 'true';

/** Whether a Postgres answers at `url` within a couple of seconds. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The machine's RabbitMQ, for suites that need a broker. */
export const localAmqpUrl = 'amqp://guest:guest@127.0.0.1:5672';

/** Whether a RabbitMQ (AMQP 0-9-1) broker accepts a connection and a channel at `url` within a couple of seconds. */
export async function amqpAnswers(url: string): Promise<boolean> {
  let connection: amqp.ChannelModel | undefined;
  try {
    connection = await amqp.connect(url, { timeout: 2_000 });
    await (await connection.createChannel()).close();
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** The machine's Redis, for the cluster suites. */
export const localRedisUrl = 'redis://127.0.0.1:6379';

/** Whether a Redis answers `PING` with `PONG` at `url` within a couple of seconds (its password and database taken from the URL). */
export async function redisAnswers(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * For a suite that needs a real service: true when it answers; when it does not,
 * a failure under CI and a loudly announced skip elsewhere.
 */
export function serviceAvailable(name: string, answers: boolean): boolean {
  if (answers) return true;
  if (inCi) throw new Error(`${name} is required under CI=true but does not answer`);
  console.warn(`SKIPPED: ${name} does not answer on this machine; its suite did not run`);
  return false;
}
