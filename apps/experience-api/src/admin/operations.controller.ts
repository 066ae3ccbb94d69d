import { Controller, Get, Header, Inject, UseGuards } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock } from '@app/platform';
import { experienceConfig } from '../config/experience.config.js';
import { ADMIN_TOKEN_SCHEME, ApiErrors } from '../http/api-docs.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { RecentRefusals } from '../metrics/recent-refusals.js';
import { ADMIN_REFUSALS, AdminTokenGuard } from './admin-token.guard.js';
import { ActivityAnswer, StatsAnswer, SystemApiAnswer } from './operations.answers.js';
import { type SystemApiView, SystemApiHealth } from './system-api-health.js';

/** The sum of a prom-client metric's values, optionally only those whose label matches. */
async function total(
  metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number | undefined> }> }> },
  keep?: (labels: Record<string, string | number | undefined>) => boolean,
): Promise<number> {
  const { values } = await metric.get();
  return values.filter((value) => keep === undefined || keep(value.labels)).reduce((sum, value) => sum + value.value, 0);
}

/**
 * What the operator console reads besides the sockets and clients: this
 * instance's recent refusals and alerts, its counters, and system-api's health.
 */
@Controller('admin')
@UseGuards(AdminTokenGuard)
@ApiTags('admin: operations')
@ApiBearerAuth(ADMIN_TOKEN_SCHEME)
@ApiErrors({ 401: ADMIN_REFUSALS[401], 404: ADMIN_REFUSALS[404] })
export class OperationsController {
  constructor(
    private readonly refusals: RecentRefusals,
    private readonly alerts: AlertService,
    private readonly metrics: GatewayMetrics,
    private readonly systemApi: SystemApiHealth,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('activity')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Recent refusals and alerts',
    description:
      'This instance’s recent refusals (handshakes refused, requests answered 401, 403 or 429; never a token) and the alerts it raised, one per kind, with whether each still holds.',
  })
  @ApiOkResponse({ type: ActivityAnswer })
  activity(): object {
    return { refusals: this.refusals.list(), alerts: this.alerts.recent() };
  }

  @Get('stats')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Counters',
    description:
      'This instance’s counters since it started, the same as `/metrics` gives, as JSON: read twice, they give a rate (the console’s throughput chart).',
  })
  @ApiOkResponse({ type: StatsAnswer })
  async stats(): Promise<object> {
    const metrics = this.metrics;
    return {
      at: new Date(this.clock.now()).toISOString(),
      instance_id: this.config.instanceId,
      sockets_open: await total(metrics.socketsOpen),
      entities_published: await total(metrics.published),
      deliveries: await total(metrics.deliveries),
      delivery_failures: await total(metrics.deliveryFailures),
      handshakes_accepted: await total(metrics.handshakes, (labels) => labels.outcome === 'accepted'),
      handshakes_refused: (await total(metrics.handshakes, (labels) => labels.outcome !== 'accepted')) + (await total(metrics.connectionsShed)),
    };
  }

  @Get('system')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'system-api’s health',
    description:
      'system-api’s `GET /health` (its sources and their state, outbox depth, dead letters) read at `SYSTEM_API_URL`, so that the console needs no second address. Always `200`: `reachable` and `error` say whether system-api answered.',
  })
  @ApiOkResponse({ type: SystemApiAnswer })
  async system(): Promise<SystemApiView> {
    return this.systemApi.read();
  }
}
