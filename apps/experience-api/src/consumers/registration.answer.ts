import { ApiProperty } from '@nestjs/swagger';

/** The answer of `POST /consumers`, for its OpenAPI document. */
export class RegistrationAnswer {
  @ApiProperty({ example: 'acme' })
  client_id: string;

  @ApiProperty({ description: 'The consumer token: 43 URL-safe base64 characters (256 bits). It replaces any earlier one.', example: 'q9v…' })
  token: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type: string;

  @ApiProperty({
    description:
      'The registration time plus `TOKEN_IDLE_TTL` (default 30 days): the token dies that long after the consumer’s last registration, connection or disconnection, whichever was last.',
    format: 'date-time',
  })
  expires_at: string;
}
