import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Length, Matches } from 'class-validator';
import { CLIENT_ID_PATTERN, GRANT_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField } from '../http/body-fields.js';

const GRANTS_MESSAGE = `each of groups must be a group name or a prefix ending in *, matching ${GRANT_PATTERN.source}`;

/** The body of `POST /admin/clients`. */
export class CreateClientDto {
  @ApiProperty({ description: 'The client’s id.', pattern: CLIENT_ID_PATTERN.source, example: 'acme' })
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: `client_id must match ${CLIENT_ID_PATTERN.source}` })
  client_id: string;

  /** Generated when absent; either way it is shown once and kept only as a hash. */
  @ApiPropertyOptional({
    description: 'Absent or `null`: one is generated (32 URL-safe characters). Either way it is shown once; only a scrypt hash is stored.',
    minLength: 12,
    maxLength: 256,
    nullable: true,
  })
  @OptionalField()
  @IsString()
  @Length(12, 256, { message: 'client_secret must be 12 to 256 characters long' })
  client_secret?: string;

  /** The client's grants: the only groups its consumers may be in. */
  @ApiPropertyOptional({
    description:
      'The client’s grants, the only groups its consumers may ever be in: group names, or prefixes ending in `*` (a lone `*` grants every group). Absent or `null`: no grants. Repeats are dropped.',
    type: [String],
    maxItems: MAX_GROUPS,
    nullable: true,
    items: { type: 'string', pattern: GRANT_PATTERN.source },
    example: ['orders', 'tenant-a/*'],
  })
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GRANT_PATTERN, { each: true, message: GRANTS_MESSAGE })
  groups?: string[];
}

/** The body of `PATCH /admin/clients/:client_id`. */
export class UpdateClientDto {
  /** Replaces the grants; narrowing them takes groups off the client's live socket at once. */
  @ApiProperty({
    description: 'The new grants (group names or prefixes ending in `*`); `[]` removes every grant. Repeats are dropped.',
    type: [String],
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GRANT_PATTERN.source },
    example: ['orders'],
  })
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GRANT_PATTERN, { each: true, message: GRANTS_MESSAGE })
  groups: string[];
}

/** The optional body of `POST /admin/clients/:client_id/secret`. */
export class RotateSecretDto {
  /** Generated when absent. */
  @ApiPropertyOptional({ description: 'Absent, `null` or no body at all: one is generated.', minLength: 12, maxLength: 256, nullable: true })
  @OptionalField()
  @IsString()
  @Length(12, 256, { message: 'client_secret must be 12 to 256 characters long' })
  client_secret?: string;
}

/** The query of `GET /admin/clients`. */
export class ListClientsQuery {
  /** Page size, 1 to 500; 100 when absent. */
  @ApiPropertyOptional({
    description: 'Page size: a whole number from 1 to 500 (no sign, no leading zero); default 100.',
    type: 'integer',
    minimum: 1,
    maximum: 500,
  })
  @OptionalField()
  @Matches(/^(?:[1-9]\d?|[1-4]\d\d|500)$/, { message: 'limit must be a whole number from 1 to 500' })
  limit?: string;

  /** The `next` of the previous page. */
  @ApiPropertyOptional({ description: 'A `client_id`: list the clients after it (the `next` of the previous page).', pattern: CLIENT_ID_PATTERN.source })
  @OptionalField()
  @Matches(CLIENT_ID_PATTERN, { message: `after must match ${CLIENT_ID_PATTERN.source}` })
  after?: string;
}
