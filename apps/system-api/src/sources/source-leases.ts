import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { systemConfig } from '../config/system.config.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';

/**
 * Which sources this instance reads and forwards. With several instances on
 * one database each source is held by one of them at a time, through a lease
 * in the database that its holder renews on every round.
 */
@Injectable()
export class SourceLeases {
  private readonly holding = new Set<string>();

  constructor(
    private readonly outbox: OutboxRepository,
    @Inject(systemConfig.KEY) private readonly config: ConfigType<typeof systemConfig>,
  ) {}

  /** Takes or renews the lease; false (and forgotten here) when another instance has it. */
  async hold(source: string): Promise<boolean> {
    const held = await this.outbox.holdLease(source, this.config.instanceId, this.config.sourceLeaseMs);
    if (held) this.holding.add(source);
    else this.holding.delete(source);
    return held;
  }

  drop(source: string): void {
    this.holding.delete(source);
  }

  held(): string[] {
    return [...this.holding];
  }

  get renewEveryMs(): number {
    return Math.max(500, Math.floor(this.config.sourceLeaseMs / 3));
  }

  async releaseAll(): Promise<void> {
    this.holding.clear();
    await this.outbox.releaseLeases(this.config.instanceId);
  }
}
