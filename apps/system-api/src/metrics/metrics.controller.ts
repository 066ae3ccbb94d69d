import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { SystemMetrics } from '../counters/system-metrics.js';

@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: SystemMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
