import { Redis } from 'ioredis';
import { MailCatcher } from '../mail/mail-catcher.js';
import { ADMIN_TOKEN } from '../processes/experience-api.js';
import { localPostgresUrl } from '../processes/services.js';
import type { ConnectedConsumer } from './consumers.js';
import { ExperienceApiProcess } from './experience-api-process.js';
import { FreshDatabase } from './fresh-database.js';
import { RedisServer } from './redis-server.js';

export interface ClusterOptions {
  /** Names the database, the key prefix and the instances. */
  readonly name: string;
  /** `own`: a redis-server of the suite's own on a spare port, which a test may stop and start; or a shared Redis. */
  readonly redis: 'own' | { readonly url: string };
  /** Instances, named a, b, c…; 3 unless given. */
  readonly size?: number;
  /** More variables for every instance. */
  readonly env?: Record<string, string>;
}

/** Short enough for the faults to show within a test, long enough for a loaded 2-core machine. */
export const SOCKET_LEASE_TTL_MS = 3_000;

/**
 * Several experience-api processes in cluster mode, as replicas run behind a load balancer: one
 * Redis (the cluster bus), one fresh Postgres database, one mail catcher for their alerts, each
 * instance on its own port with its own INSTANCE_ID. `use` registers its start and stop with jest.
 */
export class Cluster {
  readonly instances: ExperienceApiProcess[] = [];
  /** Consumers the tests opened; every one still open is closed after each test. */
  private readonly consumers: ConnectedConsumer[] = [];
  private catcher?: MailCatcher;
  private database?: FreshDatabase;
  private ownRedis?: RedisServer;
  readonly keyPrefix: string;

  private constructor(private readonly options: ClusterOptions) {
    this.keyPrefix = `push-gateway-test:${options.name}:${process.pid}:${Date.now().toString(36)}:`;
  }

  static use(options: ClusterOptions): Cluster {
    const cluster = new Cluster(options);
    beforeAll(() => cluster.start(), 90_000);
    afterEach(() => cluster.closeConsumers());
    afterAll(() => cluster.stop(), 60_000);
    return cluster;
  }

  get a(): ExperienceApiProcess {
    return this.instances[0];
  }

  get b(): ExperienceApiProcess {
    return this.instances[1];
  }

  get c(): ExperienceApiProcess {
    return this.instances[2];
  }

  get smtp(): MailCatcher {
    if (!this.catcher) throw new Error('the cluster is not started');
    return this.catcher;
  }

  /** The suite's own Redis (option `redis: 'own'`). */
  get redis(): RedisServer {
    if (!this.ownRedis) throw new Error("the cluster runs on a shared Redis (option redis: 'own' gives it one of its own)");
    return this.ownRedis;
  }

  get redisUrl(): string {
    return this.options.redis === 'own' ? this.redis.url : this.options.redis.url;
  }

  /** Keeps `consumer` to be closed after the test. */
  track<T extends ConnectedConsumer>(consumer: T): T {
    this.consumers.push(consumer);
    return consumer;
  }

  /** Starts again every instance that is not running (one a test stopped or killed), on its port. */
  async restartStopped(): Promise<void> {
    await Promise.all(this.instances.filter((instance) => !instance.running).map((instance) => instance.start()));
  }

  /** A test body whose failure ends with the last lines every instance (and the suite's own Redis) printed. */
  logs(body: () => Promise<void>): () => Promise<void> {
    return async () => {
      try {
        await body();
      } catch (error) {
        const tails = this.instances.map((instance) => `--- ${instance.name}, last lines ---\n${instance.tail()}`);
        if (this.ownRedis) tails.push(`--- redis-server, last lines ---\n${this.ownRedis.log.split('\n').slice(-10).join('\n')}`);
        if (error instanceof Error) error.message += `\n\n${tails.join('\n')}`;
        throw error;
      }
    };
  }

  private async start(): Promise<void> {
    this.catcher = await MailCatcher.start();
    this.database = await FreshDatabase.create(localPostgresUrl, this.options.name);
    if (this.options.redis === 'own') {
      this.ownRedis = new RedisServer();
      await this.ownRedis.start();
    }
    const names = 'abcdefgh'.slice(0, this.options.size ?? 3).split('');
    for (const name of names) {
      this.instances.push(
        new ExperienceApiProcess(`experience-api ${name}`, {
          INSTANCE_ID: `${this.options.name}-${name}`,
          DATABASE_URL: this.database.url,
          REDIS_URL: this.redisUrl,
          REDIS_KEY_PREFIX: this.keyPrefix,
          ADMIN_TOKEN,
          SOCKET_LEASE_TTL: `${SOCKET_LEASE_TTL_MS / 1_000}s`,
          WS_PING_INTERVAL: '2s',
          HANDSHAKE_RATE_PER_SECOND: '0',
          REGISTRATION_RATE_PER_MINUTE: '0',
          REGISTRATION_CLIENT_RATE_PER_MINUTE: '0',
          HEALTH_CHECK_INTERVAL: '200ms',
          SMTP_URL: this.catcher.url(),
          ALERT_EMAIL_TO: 'oncall@example.test',
          ALERT_EMAIL_FROM: 'push-gateway@example.test',
          ALERT_FOLD_WINDOW: '1s',
          ...this.options.env,
        }),
      );
    }
    await Promise.all(this.instances.map((instance) => instance.start()));
  }

  private async closeConsumers(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((consumer) => consumer.close()));
  }

  private async stop(): Promise<void> {
    await this.closeConsumers();
    await Promise.all(this.instances.map((instance) => instance.dispose()));
    await this.ownRedis?.dispose();
    if (this.options.redis !== 'own') await removeKeys(this.options.redis.url, this.keyPrefix).catch(() => undefined);
    await this.database?.drop();
    await this.catcher?.stop();
  }
}

/** Deletes every key under `prefix` in a shared Redis, so that runs leave nothing behind. */
async function removeKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1_000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
