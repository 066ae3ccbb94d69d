import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The answer of `GET /health`, for its OpenAPI document (health.controller.ts writes it). */
export class DatabaseCheckAnswer {
  @ApiProperty({ enum: ['up', 'down'] })
  status: string;

  @ApiPropertyOptional({ description: 'Why the database is down.' })
  message?: string;
}

export class ExperienceApiCheckAnswer {
  @ApiProperty({
    description: '`up` if experience-api took the last item forwarded to it, `down` if it was away or busy; with nothing to forward it keeps its last value.',
    enum: ['up', 'down'],
  })
  status: string;
}

export class HealthChecksAnswer {
  @ApiProperty({ type: DatabaseCheckAnswer })
  database: DatabaseCheckAnswer;

  @ApiProperty({ type: ExperienceApiCheckAnswer })
  experience_api: ExperienceApiCheckAnswer;
}

export class SourceStatusAnswer {
  @ApiProperty({ example: 'drop-folder' })
  name: string;

  @ApiProperty({ enum: ['http', 'directory', 'postgres', 'amqp', 'websocket'] })
  type: string;

  @ApiProperty({
    description: '`starting`, `up`, `down` (failed `retry.attempts` times in a row), `standby` (another instance holds the source’s lease), `stopped`.',
    enum: ['starting', 'up', 'down', 'standby', 'stopped'],
  })
  state: string;

  @ApiProperty({ description: 'ISO 8601 time of the last success; `null` when there is none.', type: String, format: 'date-time', nullable: true })
  last_success: string | null;

  @ApiProperty({ description: 'The last error’s text; `null` when there is none.', type: String, nullable: true })
  last_error: string | null;

  @ApiProperty({ description: 'Failures since the last success.' })
  consecutive_failures: number;

  @ApiProperty({ description: 'Items a streaming source (`amqp`, `websocket`) has received and not yet stored; `0` for the others.' })
  waiting: number;
}

export class OutboxDepthAnswer {
  @ApiProperty({ description: 'Items not yet accepted by experience-api.' })
  pending: number;

  @ApiProperty({ description: 'Items set aside as malformed plus items experience-api refused.' })
  dead_letters: number;
}

export class SystemHealthAnswer {
  @ApiProperty({ description: '`ok`, `degraded` (a source is down) or `error` (nothing moves).', enum: ['ok', 'degraded', 'error'] })
  status: string;

  @ApiProperty({ type: HealthChecksAnswer })
  checks: HealthChecksAnswer;

  @ApiProperty({ description: 'One entry per source of the sources file.', type: [SourceStatusAnswer] })
  sources: SourceStatusAnswer[];

  @ApiProperty({ description: '`null` when the database cannot be asked.', type: OutboxDepthAnswer, nullable: true })
  outbox: OutboxDepthAnswer | null;
}
