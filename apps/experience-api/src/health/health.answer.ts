import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answer of `GET /health`, for its OpenAPI document (health.controller.ts writes it). */
export class CheckAnswer {
  @ApiProperty({ enum: ['up', 'down'] })
  status: string;

  @ApiPropertyOptional({ description: 'Why the part is down.' })
  message?: string;
}

export class ChecksAnswer {
  @ApiProperty({ type: CheckAnswer })
  database: CheckAnswer;

  @ApiPropertyOptional({ description: 'In a cluster (`REDIS_URL`) only.', type: CheckAnswer })
  redis?: CheckAnswer;
}

export class HealthAnswer {
  @ApiProperty({ enum: ['ok', 'error'] })
  status: string;

  @ApiProperty({ description: 'Every part probed; every part that failed is named with its reason.', type: ChecksAnswer })
  checks: ChecksAnswer;
}
