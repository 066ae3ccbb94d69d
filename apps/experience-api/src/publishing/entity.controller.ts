import { Body, Controller, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { AllowedPublisherGuard } from './allowed-publisher.guard.js';
import { EntityPublisher } from './entity-publisher.service.js';
import { PublishEntityDto } from './publish-entity.dto.js';

@Controller('entity')
@UseGuards(AllowedPublisherGuard)
export class EntityController {
  constructor(private readonly publisher: EntityPublisher) {}

  /** `202 {id, seq}` when broadcast; `200 {id, seq, duplicate: true}` for an id already published. */
  @Post()
  @HttpCode(202)
  async publish(@Body() entity: PublishEntityDto, @Res({ passthrough: true }) response: Response): Promise<object> {
    const outcome = await this.publisher.publish(entity);
    if (outcome.duplicate) {
      response.status(200);
      return { id: outcome.id, seq: outcome.seq, duplicate: true };
    }
    return { id: outcome.id, seq: outcome.seq };
  }
}
