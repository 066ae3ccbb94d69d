import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { systemConfig } from '../config/system.config.js';
import { LeaseRepository } from './lease.repository.js';

/**
 * Which sources this instance reads and forwards. With several instances on
 * one database each source is held by one of them at a time, through a lease
 * in the database that its holder renews on every round.
 */
@Injectable()
export class SourceLeases {
  private readonly holding = new Set<string>();

  constructor(
    private readonly leases: LeaseRepository,
    @Inject(systemConfig.KEY) private readonly config: ConfigType<typeof systemConfig>,
  ) {}

  /** Takes or renews the lease; false (and forgotten here) when another instance has it. */
  async hold(source: string): Promise<boolean> {
    const held = await this.leases.hold(source, this.config.instanceId, this.config.sourceLeaseMs);
    if (held) this.holding.add(source);
    else this.holding.delete(source);
    return held;
  }

  held(): string[] {
    return [...this.holding];
  }

  /** A third of the lease: a missed renewal still leaves time for the next. */
  get renewEveryMs(): number {
    return Math.max(500, Math.floor(this.config.sourceLeaseMs / 3));
  }

  async releaseAll(): Promise<void> {
    this.holding.clear();
    await this.leases.releaseAll(this.config.instanceId);
  }
}
