import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answers of `POST /entity`, for its OpenAPI document. */
export class PublishedAnswer {
  @ApiProperty({ description: 'The entity’s id, as given or assigned.', example: 'order-1042' })
  id: string;

  @ApiProperty({ description: 'The entity’s position (docs/protocol.md, "Ordering and seq"); for a duplicate, the earlier one.', example: 17 })
  seq: number;

  @ApiPropertyOptional({ description: 'Present (`true`) when this id was already published within the last 24 hours: nothing is broadcast.', enum: [true] })
  duplicate?: true;
}
