import { ApiProperty } from '@nestjs/swagger';

/** The shapes of the operator console's reads (operations.controller.ts builds them), for their OpenAPI document. */

export class RefusalAnswer {
  @ApiProperty({ description: '`handshake` (a refused `/ws/publish` upgrade) or `http` (a request answered 401, 403 or 429).', enum: ['handshake', 'http'] })
  place: string;

  @ApiProperty({ example: 'POST /consumers' })
  route: string;

  @ApiProperty({ example: 401 })
  status: number;

  @ApiProperty({ description: 'The refusal’s `error` code.', example: 'invalid_token' })
  code: string;

  @ApiProperty({ description: 'The caller’s address, through `TRUST_PROXY`.' })
  remote_address: string;

  @ApiProperty({ description: 'The client a handshake named; `null` otherwise.', type: String, nullable: true })
  client_id: string | null;

  @ApiProperty({ description: 'Times in a row the same caller was refused the same way.' })
  count: number;

  @ApiProperty({ format: 'date-time' })
  first_at: string;

  @ApiProperty({ format: 'date-time' })
  last_at: string;
}

export class AlertSummaryAnswer {
  @ApiProperty({ example: 'handshake_refused' })
  kind: string;

  @ApiProperty({ enum: ['critical', 'error', 'warning'] })
  severity: string;

  @ApiProperty({ example: 'refused handshakes' })
  subject: string;

  @ApiProperty({ description: 'Raises since the condition began.' })
  count: number;

  @ApiProperty({ format: 'date-time' })
  first_at: string;

  @ApiProperty({ format: 'date-time' })
  last_at: string;

  @ApiProperty({ description: 'Raised and not resolved since.' })
  active: boolean;

  @ApiProperty({ format: 'date-time', type: String, nullable: true })
  resolved_at: string | null;

  @ApiProperty({ description: 'The last raise’s details, redacted as in the mail.', type: 'object', additionalProperties: { type: 'string' } })
  details: Record<string, string>;
}

export class ActivityAnswer {
  @ApiProperty({ description: 'This instance’s last 200 refusals at most, newest first; repeats in a row are one entry.', type: [RefusalAnswer] })
  refusals: RefusalAnswer[];

  @ApiProperty({ description: 'The alerts this instance raised, one entry per kind, newest first.', type: [AlertSummaryAnswer] })
  alerts: AlertSummaryAnswer[];
}

export class StatsAnswer {
  @ApiProperty({ description: 'When the counters were read.', format: 'date-time' })
  at: string;

  @ApiProperty({ description: 'This instance’s `INSTANCE_ID`: in a cluster, each instance counts its own.' })
  instance_id: string;

  @ApiProperty({ description: 'Sockets open on this instance.' })
  sockets_open: number;

  @ApiProperty({ description: 'Entities this instance accepted since it started, duplicates excluded.' })
  entities_published: number;

  @ApiProperty({ description: 'Entity frames this instance wrote to consumer sockets since it started.' })
  deliveries: number;

  @ApiProperty({ description: 'Entity frames that could not be written.' })
  delivery_failures: number;

  @ApiProperty({ description: 'Consumer handshakes accepted.' })
  handshakes_accepted: number;

  @ApiProperty({ description: 'Consumer handshakes refused, and connections shed at accept.' })
  handshakes_refused: number;
}

export class SystemApiAnswer {
  @ApiProperty({ description: '`SYSTEM_API_URL`; `null` when it is not set.', type: String, nullable: true })
  url: string | null;

  @ApiProperty({ description: 'Whether system-api answered with its health.' })
  reachable: boolean;

  @ApiProperty({
    description:
      'system-api’s `GET /health` answer as it is: `status`, `checks`, `sources` (each with `state`), `outbox` (`pending`, `dead_letters`); `null` without one.',
    type: 'object',
    additionalProperties: true,
    nullable: true,
  })
  health: object | null;

  @ApiProperty({ description: 'Why there is no health; `null` with one.', type: String, nullable: true })
  error: string | null;
}
