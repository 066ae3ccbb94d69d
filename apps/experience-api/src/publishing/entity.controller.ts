import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AllowedPublisherGuard } from './allowed-publisher.guard.js';
import { EntityPublisher } from './entity-publisher.service.js';
import { ApiErrors, BODY_NOT_JSON, BODY_REFUSED, bodyTooLarge } from '../http/api-docs.js';
import { PublishEntityDto } from './publish-entity.dto.js';
import { PublishedAnswer } from './published.answer.js';

@Controller('entity')
@UseGuards(AllowedPublisherGuard)
@ApiTags('publishing')
export class EntityController {
  constructor(private readonly publisher: EntityPublisher) {}

  /** `202 {id, seq}` when broadcast; `200 {id, seq, duplicate: true}` for an id already published. */
  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Publish an entity',
    description:
      'Publishes an entity to every consumer it names, on every instance. No token: the caller’s address (the TCP peer, or the forwarded address through a proxy in `TRUST_PROXY`) must be inside `ENTITY_ALLOWED_CIDRS`. A publisher that sets `id` and retries with the same `id` until it gets `200` or `202` can retry safely.',
  })
  @ApiResponse({
    status: 202,
    description: 'Recorded and broadcast (in a cluster: recorded in the Redis stream every instance delivers from).',
    type: PublishedAnswer,
  })
  @ApiOkResponse({
    description:
      'A duplicate: this `id` was already published within the last 24 hours; nothing is broadcast and `seq` is the earlier one (`duplicate: true`).',
    type: PublishedAnswer,
  })
  @ApiErrors({
    400: BODY_REFUSED,
    403: 'The caller is outside `ENTITY_ALLOWED_CIDRS` (`<address> may not publish entities`).',
    413: bodyTooLarge('1 MiB'),
    415: BODY_NOT_JSON,
    500: 'The broadcast failed after the id was recorded; the record is taken back, so a retry with the same `id` is broadcast.',
    503: {
      description:
        'More than 10,000 entities wait to be published on this instance, or the database is unreachable, or, in a cluster, Redis is unreachable (then with `Retry-After: 2`).',
      retryAfter: true,
    },
  })
  async publish(@Body() entity: PublishEntityDto, @Res({ passthrough: true }) response: Response): Promise<object> {
    const outcome = await this.publisher.publish(entity);
    if (outcome.duplicate) {
      response.status(200);
      return { id: outcome.id, seq: outcome.seq, duplicate: true };
    }
    return { id: outcome.id, seq: outcome.seq };
  }
}
