import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors, BODY_NOT_JSON, bodyTooLarge } from '../http/api-docs.js';
import { ItemRefusal, readArrayBody } from '../http/api-body.pipe.js';
import { errorCode } from '../http/api-error.js';
import { ApiErrorFilter } from '../http/api-error.filter.js';
import { AllowedPublisherGuard } from './allowed-publisher.guard.js';
import { BulkPublishedAnswer } from './bulk-published.answer.js';
import { EntityPublisher } from './entity-publisher.service.js';
import { PublishEntityDto } from './publish-entity.dto.js';

/** Most entities one `POST /entities` takes. */
export const MAX_BULK_ENTITIES = 1_000;
/** Largest entity inside it: the limit of a `POST /entity` body. */
export const MAX_ENTITY_BYTES = 1_048_576;

type ItemAnswer = { id: string; seq: number; duplicate?: true } | { error: string; message: string; status: number };

/**
 * `POST /entities`: publishes a JSON array of entities in one request, each
 * under the rules of `POST /entity`, in array order, answering one result per
 * entity. (`GET /entities`, the history, is history/entities.controller.ts:
 * the same path, another method.)
 */
@Controller('entities')
@UseGuards(AllowedPublisherGuard)
@ApiTags('publishing')
export class BulkPublishController {
  constructor(
    private readonly publisher: EntityPublisher,
    private readonly errors: ApiErrorFilter,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Publish several entities',
    description:
      `A JSON array of 1 to ${MAX_BULK_ENTITIES} entities, each as the body of \`POST /entity\` (optional \`id\`, optional \`groups\`, required \`data\`; at most 1 MiB each), published in array order: ` +
      'fresh ones take increasing `seq`s in that order. Same allow list as `POST /entity`. The answer is `200` with one result per entity, in order: ' +
      '`{id, seq}`, `{id, seq, duplicate: true}`, or `{error, message, status}` for an entity not published. A refused entity (`400`, `413`) does not stop the others; ' +
      'once one fails (`500`, `503`), those after it are not tried (`503`, naming it), so that a publisher retrying from the first one not published keeps its order.',
  })
  @ApiBody({ type: [PublishEntityDto], description: `1 to ${MAX_BULK_ENTITIES} entities, as for \`POST /entity\`.` })
  @ApiOkResponse({ description: 'The request was read: one result per entity, in order.', type: BulkPublishedAnswer })
  @ApiErrors({
    400: 'The body is not valid UTF-8 or JSON, not a JSON array, empty, or an element nests deeper than 64 levels. A bad entity is not a `400`: it is refused in its result.',
    403: 'The caller is outside `ENTITY_ALLOWED_CIDRS` (`<address> may not publish entities`).',
    413: `${bodyTooLarge('8 MiB')} Also more than ${MAX_BULK_ENTITIES} entities.`,
    415: BODY_NOT_JSON,
    503: `More entities would wait to be published on this instance than it queues (10,000): nothing was published.`,
  })
  async publishAll(@Req() request: Request): Promise<{ results: ItemAnswer[] }> {
    const items = readArrayBody(request.body, PublishEntityDto, { maxItems: MAX_BULK_ENTITIES, maxItemBytes: MAX_ENTITY_BYTES, noun: 'entity' });
    const entities = items.filter((item): item is PublishEntityDto => !(item instanceof ItemRefusal));
    const outcomes = await this.publisher.publishAll(entities);
    const where = `${request.method} ${request.path}`;
    let next = 0;
    const results = items.map((item): ItemAnswer => {
      if (item instanceof ItemRefusal) return { error: errorCode(item.status), message: item.message, status: item.status };
      const outcome = outcomes[next++];
      if ('error' in outcome) {
        const [status, body] = this.errors.describe(outcome.error, where);
        return { error: body.error, message: body.message, status };
      }
      return outcome.duplicate ? { id: outcome.id, seq: outcome.seq, duplicate: true } : { id: outcome.id, seq: outcome.seq };
    });
    return { results };
  }
}
