import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock, type TimerHandle } from '@app/platform';
import { RedisConnection } from './redis-connection.js';

const KIND = 'cluster_bus_unavailable';
const SUBJECT = 'Redis unreachable: the cluster cannot publish';
/** Redis not reachable this long after start is alerted like a loss. */
const STARTUP_GRACE_MS = 5_000;

/**
 * Tells DevOps when Redis stops being reachable (this instance then refuses
 * publishes with 503 and keeps its consumers connected) and when it is back.
 */
@Injectable()
export class ClusterMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private alerted = false;
  private startupTimer?: TimerHandle;

  constructor(
    private readonly redis: RedisConnection,
    private readonly alerts: AlertService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    redis.onChange((reachable) => (reachable ? this.back() : this.lost()));
  }

  onApplicationBootstrap(): void {
    this.startupTimer = this.clock.setTimer(() => {
      if (!this.redis.isReachable && !this.alerted) this.lost();
    }, STARTUP_GRACE_MS);
  }

  onApplicationShutdown(): void {
    if (this.startupTimer) this.clock.clearTimer(this.startupTimer);
  }

  private lost(): void {
    this.alerted = true;
    this.alerts.raise({ kind: KIND, severity: 'critical', subject: SUBJECT, details: { error: this.redis.problem } });
  }

  private back(): void {
    if (!this.alerted) return;
    this.alerted = false;
    this.alerts.resolve(KIND, SUBJECT);
  }
}
