import { ApiProperty } from '@nestjs/swagger';

/** The answer of `GET /entities`, for its OpenAPI document (entities.controller.ts writes it). */
export class EntityFrameAnswer {
  @ApiProperty({ enum: ['entity'] })
  type: string;

  @ApiProperty({ example: 'order-1042' })
  id: string;

  @ApiProperty({ example: 1042 })
  seq: number;

  @ApiProperty({ description: 'The groups it was published to; absent when published to every consumer.', type: [String], required: false })
  groups?: string[];

  @ApiProperty({
    description: 'The data exactly as published.',
    oneOf: [{ type: 'object' }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
    nullable: true,
  })
  data: unknown;

  @ApiProperty({ format: 'date-time' })
  published_at: string;
}

export class EntitiesPageAnswer {
  @ApiProperty({ description: 'The history’s id: the epoch to send with the next read, and on a handshake.', example: '3f6c2a9e-8d1b-4c0e-9a57-2b7d4e1f6a90' })
  epoch: string;

  @ApiProperty({ description: 'The newest `seq` delivered by this instance when the page was read.', example: 1050 })
  last_seq: number;

  @ApiProperty({
    description:
      'The `since` of the next read: the last entity’s `seq` while `more` is `true`, then `last_seq` (or `since` itself, when it was already at or past `last_seq`).',
    example: 1044,
  })
  next_since: number;

  @ApiProperty({ description: 'Whether entities owed after this page remain, up to `last_seq`.' })
  more: boolean;

  @ApiProperty({
    description:
      'At most `limit` entities after `since`, in `seq` order: the very `entity` frames consumers receive, byte for byte (docs/protocol.md, "entity").',
    type: [EntityFrameAnswer],
  })
  entities: EntityFrameAnswer[];
}
