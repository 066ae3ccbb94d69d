import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InProcessClientChanges } from '@app/token-store';
import { experienceConfig } from '../config/experience.config.js';
import { RedisConnection } from './redis-connection.js';

/**
 * Client changes announced to every instance over a Redis channel, so that
 * a token rotated or a client deleted through one instance is refused by all
 * of them at once. When Redis comes back after a loss, announcements made
 * meanwhile may have been missed: every cached credential is dropped.
 */
@Injectable()
export class RedisClientChanges extends InProcessClientChanges {
  private readonly logger = new Logger(RedisClientChanges.name);
  private readonly channel: string;
  private readonly from: string;
  private wasReachable = false;

  constructor(
    private readonly redis: RedisConnection,
    @Inject(experienceConfig.KEY) config: ConfigType<typeof experienceConfig>,
  ) {
    super();
    this.channel = `${config.cluster!.keyPrefix}client-changes`;
    const from = (this.from = config.instanceId);
    // "<instance> <client id>": an instance hears its own announcements and skips them
    this.redis
      .subscribe(this.channel, (message) => {
        const text = message.toString();
        const space = text.indexOf(' ');
        if (space > 0 && text.slice(0, space) !== from) this.tell(text.slice(space + 1));
      })
      .catch((error: Error) => this.logger.error(`could not subscribe to ${this.channel}: ${error.message}`));
    this.redis.onChange((reachable) => {
      if (reachable && this.wasReachable) this.tell(null);
      if (reachable) this.wasReachable = true;
    });
  }

  override async announce(clientId: string): Promise<void> {
    this.tell(clientId);
    try {
      await this.redis.commands.publish(this.channel, `${this.from} ${clientId}`);
    } catch (error) {
      // the cached credentials elsewhere expire within seconds, and are all dropped when Redis is back
      this.logger.warn(`could not announce a change to client ${clientId} to the other instances: ${(error as Error).message}`);
    }
  }
}
