import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsString, Matches, ValidateBy } from 'class-validator';
import { CLIENT_ID_PATTERN, GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField, RawJsonField } from '../http/body-fields.js';
import type { RawJson } from '../http/raw-json.js';
import { anyJson } from '../http/api-docs.js';

/**
 * Close codes an operator may close a socket with: a normal closure, or the
 * range RFC 6455 (7.4.2) leaves to applications; the other standard codes
 * mean what the gateway itself does (1008 a broken rule, 1012 a restart).
 */
export const OPERATOR_CLOSE_CODES: readonly number[] = [1000, ...Array.from({ length: 2000 }, (_, i) => 3000 + i)];
const CLOSE_CODE_MESSAGE = 'code must be 1000 or from 3000 to 4999';
const REASON_PATTERN = /^[\x20-\x7E]{0,120}$/;
const REASON_MESSAGE = 'reason must be at most 120 printable ASCII characters';
const PATH_PATTERN = /^\/[\x21-\x7E]{0,255}$/;
const PATH_MESSAGE = 'path must start with / and be at most 256 printable ASCII characters without spaces';
const GROUPS_MESSAGE = `each of groups must match ${GROUP_PATTERN.source}`;
const SOCKET_TYPES = ['inbound', 'outbound'] as const;
const TYPE_MESSAGE = 'type must be inbound or outbound';
const DATA =
  'Required: any JSON value, `null` included. A consumer gets a text frame `{"type": "message", "data": <data>}`, `data` exactly as sent; an outbound socket gets the text of `data` as it is.';

/** `data` must be present: any JSON value, `null` included. */
function DataRequired(): PropertyDecorator {
  return ValidateBy(
    { name: 'isPresent', validator: { validate: (_value, args) => args !== undefined && Object.hasOwn(args.object, args.property) } },
    { message: 'data is required (any JSON value)' },
  );
}

/** A close frame's code: 1000 when absent. */
function CloseCodeField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: '`1000`, or `3000` to `4999` (the range left to applications; the other standard codes mean what the gateway itself does); absent: `1000`.',
      type: 'integer',
      example: 4000,
    }),
    OptionalField(),
    IsIn(OPERATOR_CLOSE_CODES, { message: CLOSE_CODE_MESSAGE }),
  );
}

/** A close frame's reason, printable ASCII to fit the 123 bytes a close frame has room for; "closed by an operator" when absent. */
function CloseReasonField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description: 'At most 120 printable ASCII characters; absent: `closed by an operator`.', maxLength: 120, example: 'maintenance' }),
    OptionalField(),
    IsString(),
    Matches(REASON_PATTERN, { message: REASON_MESSAGE }),
  );
}

/** The optional body of `DELETE /admin/sockets/:socket_id`. */
export class CloseSocketDto {
  @CloseCodeField()
  code?: number;

  @CloseReasonField()
  reason?: string;
}

/** Which sockets: every field given must match, any one of `groups` suffices. */
class SocketSelectionDto {
  @ApiPropertyOptional({ description: 'A consumer’s socket (`inbound`) or one the gateway opened (`outbound`).', enum: SOCKET_TYPES })
  @OptionalField()
  @IsIn(SOCKET_TYPES, { message: TYPE_MESSAGE })
  type?: 'inbound' | 'outbound';

  @ApiPropertyOptional({ description: 'The socket’s path: `/ws/publish` for consumers, the URL path of an outbound socket.', pattern: PATH_PATTERN.source })
  @OptionalField()
  @IsString()
  @Matches(PATH_PATTERN, { message: PATH_MESSAGE })
  path?: string;

  @ApiPropertyOptional({
    description: 'Non-empty: the sockets in any of these groups.',
    type: [String],
    minItems: 1,
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GROUP_PATTERN.source },
  })
  @OptionalField()
  @IsArray()
  @ArrayNotEmpty({ message: 'groups must not be empty; leave it out to select regardless of groups' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: GROUPS_MESSAGE })
  groups?: string[];

  @ApiPropertyOptional({ description: 'The consumer’s client.', pattern: CLIENT_ID_PATTERN.source })
  @OptionalField()
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: `client_id must match ${CLIENT_ID_PATTERN.source}` })
  client_id?: string;
}

/** The body of `POST /admin/sockets/close`: a selection (at least one criterion), a code and a reason. */
export class BulkCloseDto extends SocketSelectionDto {
  @CloseCodeField()
  code?: number;

  @CloseReasonField()
  reason?: string;
}

/** The body of `POST /admin/broadcast`: the data, to the sockets selected (every socket when no criterion is given). */
export class BroadcastDto extends SocketSelectionDto {
  @ApiProperty(anyJson(DATA))
  @RawJsonField()
  @DataRequired()
  data: RawJson;
}

/** The body of `POST /admin/sockets/:socket_id/messages`. */
export class SendMessageDto {
  @ApiProperty(anyJson(DATA))
  @RawJsonField()
  @DataRequired()
  data: RawJson;
}

/** The body of `POST` and `DELETE /admin/sockets/:socket_id/groups`. */
export class SocketGroupsDto {
  @ApiProperty({
    description: '1 to 100 group names.',
    type: [String],
    minItems: 1,
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GROUP_PATTERN.source },
    example: ['orders'],
  })
  @IsArray()
  @ArrayNotEmpty({ message: 'groups must not be empty' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: GROUPS_MESSAGE })
  groups: string[];
}

/** The query of `GET /admin/sockets`. */
export class ListSocketsQuery {
  @ApiPropertyOptional({ description: 'A consumer’s socket (`inbound`) or one the gateway opened (`outbound`).', enum: SOCKET_TYPES })
  @OptionalField()
  @IsIn(SOCKET_TYPES, { message: TYPE_MESSAGE })
  type?: 'inbound' | 'outbound';

  @ApiPropertyOptional({ description: 'The socket’s path: `/ws/publish` for consumers, the URL path of an outbound socket.', pattern: PATH_PATTERN.source })
  @OptionalField()
  @Matches(PATH_PATTERN, { message: PATH_MESSAGE })
  path?: string;

  /** Sockets in this group. */
  @ApiPropertyOptional({ description: 'Sockets in this group.', pattern: GROUP_PATTERN.source })
  @OptionalField()
  @Matches(GROUP_PATTERN, { message: `group must match ${GROUP_PATTERN.source}` })
  group?: string;

  @ApiPropertyOptional({ description: 'The consumer’s client.', pattern: CLIENT_ID_PATTERN.source })
  @OptionalField()
  @Matches(CLIENT_ID_PATTERN, { message: `client_id must match ${CLIENT_ID_PATTERN.source}` })
  client_id?: string;

  /** Page size, 1 to 500; 100 when absent. */
  @ApiPropertyOptional({ description: 'Page size: a whole number from 1 to 500; default 100.', type: 'integer', minimum: 1, maximum: 500 })
  @OptionalField()
  @Matches(/^(?:[1-9]\d?|[1-4]\d\d|500)$/, { message: 'limit must be a whole number from 1 to 500' })
  limit?: string;

  /** The `next` of the previous page. */
  @ApiPropertyOptional({ description: 'The `next` of the previous page: list the sockets after this id.' })
  @OptionalField()
  @Matches(/^[\x21-\x7E]{1,128}$/, { message: 'after must be a socket id' })
  after?: string;
}
