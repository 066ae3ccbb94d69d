import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DatabaseHealth } from '@app/database';
import { OutboxForwarder } from '../forwarding/outbox-forwarder.service.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { SourceRunner } from '../sources/source-runner.service.js';
import { SystemHealthAnswer } from './health.answer.js';

@Controller('health')
@ApiTags('operations')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    private readonly outbox: OutboxRepository,
    private readonly runner: SourceRunner,
    private readonly forwarder: OutboxForwarder,
  ) {}

  /**
   * Whether system-api can do its job (move items from its sources to
   * experience-api), with each part's state, each source's, and the outbox
   * depth. `error` (503): the database does not answer, or experience-api is
   * not taking items: nothing moves. `degraded` (200): a source is down; the
   * others move, and the down one is alerted and probed. `ok` (200) otherwise.
   */
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Health',
    description:
      'Whether system-api can do its job, moving items from its sources to experience-api, with each part’s state, each source’s and the outbox depth. No auth; `Cache-Control: no-store`. Use it for readiness and alerting, not to restart system-api.',
  })
  @ApiOkResponse({ description: '`ok`, or `degraded`: a source is down; the others still move, the down one is alerted and probed.', type: SystemHealthAnswer })
  @ApiServiceUnavailableResponse({
    description: '`error`: the database does not answer, or experience-api does not take items (unreachable, or answering 502, 503, 504): nothing moves.',
    type: SystemHealthAnswer,
  })
  async check(@Res() response: Response): Promise<void> {
    const database = await this.database.check();
    const depth = database.up ? await this.outbox.depth().catch(() => undefined) : undefined;
    const experienceApiUp = this.forwarder.experienceApiReachable;
    const sources = this.runner.statuses();
    const status = !database.up || !experienceApiUp ? 'error' : sources.some((source) => source.state === 'down') ? 'degraded' : 'ok';
    response.status(status === 'error' ? 503 : 200).json({
      status,
      checks: {
        database: database.up ? { status: 'up' } : { status: 'down', message: database.message },
        experience_api: { status: experienceApiUp ? 'up' : 'down' },
      },
      sources,
      outbox: depth ? { pending: depth.pending, dead_letters: depth.deadLetters } : null,
    });
  }
}
