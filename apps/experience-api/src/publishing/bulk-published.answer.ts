import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One element of the answer of `POST /entities`: the entity's `{id, seq}` (and `duplicate`), or why it was not published. */
export class BulkItemAnswer {
  @ApiPropertyOptional({ description: 'Published or duplicate: the entity’s id, as given or assigned.', example: 'order-1042' })
  id?: string;

  @ApiPropertyOptional({
    description: 'Published or duplicate: the entity’s position; for a duplicate, the earlier one. Increases in array order.',
    example: 17,
  })
  seq?: number;

  @ApiPropertyOptional({ description: 'Present (`true`) when this id was already published within the last 24 hours: nothing is broadcast.', enum: [true] })
  duplicate?: true;

  @ApiPropertyOptional({
    description:
      'Not published: the code `POST /entity` would have answered for this entity alone (`bad_request`, `payload_too_large`, `internal_server_error`, `service_unavailable`).',
    example: 'bad_request',
  })
  error?: string;

  @ApiPropertyOptional({
    description: 'Not published: why, as `POST /entity` would have said it.',
    example: 'groups must not be empty; leave it out to publish to every consumer',
  })
  message?: string;

  @ApiPropertyOptional({
    description: 'Not published: the status `POST /entity` would have answered for this entity alone (400, 413, 500, 503).',
    example: 400,
  })
  status?: number;
}

/** The answer of `POST /entities`. */
export class BulkPublishedAnswer {
  @ApiProperty({ description: 'One result per entity of the request, in the same order.', type: [BulkItemAnswer] })
  results: BulkItemAnswer[];
}
