import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Redis, type RedisOptions } from 'ioredis';
import { experienceConfig } from '../config/experience.config.js';

/** Reconnection attempts are this far apart at most. */
const MAX_RECONNECT_DELAY_MS = 1_000;
/** A command Redis has not answered in this long fails, rather than holding its request. */
const COMMAND_TIMEOUT_MS = 5_000;

type MessageHandler = (message: Buffer) => void;

/**
 * This instance's one way to Redis: three clients, because a blocking stream
 * read and a subscription each take a connection of their own.
 *
 * - `commands`: everything else. It fails at once while Redis is out of
 *   reach (no offline queue), so that a publish is refused, not parked.
 * - `reader`: the blocking reads of the entity stream.
 * - the subscriber, behind `subscribe`: channels are resubscribed by ioredis
 *   after every reconnection.
 *
 * Redis counts as reachable when all three are ready; `onChange` hears when
 * that starts and stops being so.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  readonly commands: Redis;
  readonly reader: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly changeListeners: Array<(reachable: boolean) => void> = [];
  private reachable = false;
  private closing = false;
  private lastError = 'not connected yet';

  constructor(@Inject(experienceConfig.KEY) config: ConfigType<typeof experienceConfig>) {
    if (!config.cluster) throw new Error('RedisConnection needs REDIS_URL');
    const url = config.cluster.redisUrl.toString();
    const options = (role: string, extra: RedisOptions): RedisOptions => ({
      connectionName: `push-gateway:${config.instanceId}:${role}`,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
      // a command is never replayed after a reconnection: its caller has been answered by then
      maxRetriesPerRequest: 0,
      ...extra,
    });
    this.commands = new Redis(url, options('commands', { enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS }));
    this.reader = new Redis(url, options('stream-reader', {}));
    this.subscriber = new Redis(url, options('subscriber', {}));
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.handlers.get(channel.toString())?.(message));
    for (const client of [this.commands, this.reader, this.subscriber]) {
      client.on('ready', () => this.update());
      client.on('close', () => {
        if (this.reachable) this.lastError = 'the connection to Redis was closed';
        this.update();
      });
      // ioredis logs an unhandled 'error' event; the state change says it once
      client.on('error', (error: Error) => {
        this.lastError = error.message;
      });
    }
  }

  /** Whether every client is connected and ready. */
  get isReachable(): boolean {
    return this.reachable;
  }

  /** Why Redis is not reachable, when it is not. */
  get problem(): string {
    return this.lastError;
  }

  /** Calls `listener(true)` when Redis becomes reachable (again), `listener(false)` when it stops being so. */
  onChange(listener: (reachable: boolean) => void): void {
    this.changeListeners.push(listener);
  }

  /** Subscribes to a channel for as long as the instance runs, across reconnections. */
  async subscribe(channel: string, handler: MessageHandler): Promise<void> {
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  /** Resolves when Redis is reachable, at once if it is. */
  whenReachable(): Promise<void> {
    if (this.reachable) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (reachable: boolean) => {
        if (!reachable) return;
        const index = this.changeListeners.indexOf(listener);
        if (index >= 0) this.changeListeners.splice(index, 1);
        resolve();
      };
      this.changeListeners.push(listener);
    });
  }

  /** A round trip to Redis, for health checks. */
  async ping(): Promise<void> {
    await this.commands.ping();
  }

  private update(): void {
    const reachable = !this.closing && [this.commands, this.reader, this.subscriber].every((client) => client.status === 'ready');
    if (reachable === this.reachable) return;
    this.reachable = reachable;
    if (reachable) this.logger.log('Redis reachable');
    else if (!this.closing) this.logger.error(`Redis unreachable: ${this.lastError}`);
    for (const listener of [...this.changeListeners]) listener(reachable);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    // a blocked read would hold its connection open until its timeout
    this.reader.disconnect();
    // a client that is not connected (Redis away) would wait for Redis to quit, or keep reconnecting: it is dropped
    const quitting: Array<Promise<unknown>> = [];
    for (const client of [this.commands, this.subscriber]) {
      if (client.status === 'ready') quitting.push(client.quit().catch(() => client.disconnect()));
      else client.disconnect();
    }
    await Promise.allSettled(quitting);
  }
}
