import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DatabaseHealth } from '@app/database';
import { OutboxForwarder } from '../forwarding/outbox-forwarder.service.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { SourceRunner } from '../sources/source-runner.service.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    private readonly outbox: OutboxRepository,
    private readonly runner: SourceRunner,
    private readonly forwarder: OutboxForwarder,
  ) {}

  /**
   * 200 when the app and its database answer, 503 otherwise; either way with
   * each source's state and last success, and the outbox depth. A source that
   * is down does not make the app unhealthy: it is reported, alerted and probed.
   */
  @Get()
  @Header('Cache-Control', 'no-store')
  async check(@Res() response: Response): Promise<void> {
    const database = await this.database.check();
    const depth = database.up ? await this.outbox.depth().catch(() => undefined) : undefined;
    response.status(database.up ? 200 : 503).json({
      status: database.up ? 'ok' : 'error',
      checks: {
        database: database.up ? { status: 'up' } : { status: 'down', message: database.message },
        experience_api: { status: this.forwarder.experienceApiReachable ? 'up' : 'down' },
      },
      sources: this.runner.statuses(),
      outbox: depth ? { pending: depth.pending, dead_letters: depth.deadLetters } : null,
    });
  }
}
