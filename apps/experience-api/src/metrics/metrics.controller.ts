import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { GatewayMetrics } from './gateway-metrics.js';

@Controller('metrics')
@ApiTags('operations')
export class MetricsController {
  constructor(private readonly metrics: GatewayMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics', description: 'No auth. `Cache-Control: no-store`.' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text format: the `push_gateway_*` metrics (docs/api.md, "GET /metrics"), plus the Node.js process metrics of `prom-client`.',
    schema: { type: 'string' },
  })
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
