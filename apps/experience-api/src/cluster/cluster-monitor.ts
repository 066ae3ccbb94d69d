import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock, type TimerHandle } from '@app/platform';
import { Gauge } from 'prom-client';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { RedisConnection } from './redis-connection.js';

const KIND = 'cluster_bus_unavailable';
const SUBJECT = 'Redis unreachable: the cluster cannot publish';
/** Redis not reachable this long after start is alerted like a loss. */
const STARTUP_GRACE_MS = 5_000;

/**
 * Tells DevOps when Redis stops being reachable (this instance then refuses
 * publishes with 503 and keeps its consumers connected) and when it is back,
 * and shows it in `/metrics` as `push_gateway_redis_up`.
 */
@Injectable()
export class ClusterMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private alerted = false;
  private startupTimer?: TimerHandle;

  constructor(
    private readonly redis: RedisConnection,
    private readonly alerts: AlertService,
    @Inject(CLOCK) private readonly clock: Clock,
    metrics: GatewayMetrics,
  ) {
    redis.onChange((reachable) => (reachable ? this.back() : this.lost()));
    new Gauge({
      name: 'push_gateway_redis_up',
      help: 'Whether this instance reaches Redis, through which the instances of a cluster act as one (1) or not (0).',
      registers: [metrics.registry],
      collect() {
        this.set(redis.isReachable ? 1 : 0);
      },
    });
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
