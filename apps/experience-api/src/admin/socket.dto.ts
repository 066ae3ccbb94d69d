import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, IsString, Matches, ValidateBy } from 'class-validator';
import { CLIENT_ID_PATTERN, GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField, RawJsonField } from '../http/body-fields.js';
import type { RawJson } from '../http/raw-json.js';

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

/** `data` must be present: any JSON value, `null` included. */
function DataRequired(): PropertyDecorator {
  return ValidateBy(
    { name: 'isPresent', validator: { validate: (_value, args) => args !== undefined && Object.hasOwn(args.object, args.property) } },
    { message: 'data is required (any JSON value)' },
  );
}

/** A close frame's code: 1000 when absent. */
function CloseCodeField(): PropertyDecorator {
  return applyDecorators(OptionalField(), IsIn(OPERATOR_CLOSE_CODES, { message: CLOSE_CODE_MESSAGE }));
}

/** A close frame's reason, printable ASCII to fit the 123 bytes a close frame has room for; "closed by an operator" when absent. */
function CloseReasonField(): PropertyDecorator {
  return applyDecorators(OptionalField(), IsString(), Matches(REASON_PATTERN, { message: REASON_MESSAGE }));
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
  @OptionalField()
  @IsIn(SOCKET_TYPES, { message: TYPE_MESSAGE })
  type?: 'inbound' | 'outbound';

  @OptionalField()
  @IsString()
  @Matches(PATH_PATTERN, { message: PATH_MESSAGE })
  path?: string;

  @OptionalField()
  @IsArray()
  @ArrayNotEmpty({ message: 'groups must not be empty; leave it out to select regardless of groups' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: GROUPS_MESSAGE })
  groups?: string[];

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
  @RawJsonField()
  @DataRequired()
  data: RawJson;
}

/** The body of `POST /admin/sockets/:socket_id/messages`. */
export class SendMessageDto {
  @RawJsonField()
  @DataRequired()
  data: RawJson;
}

/** The body of `POST` and `DELETE /admin/sockets/:socket_id/groups`. */
export class SocketGroupsDto {
  @IsArray()
  @ArrayNotEmpty({ message: 'groups must not be empty' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: GROUPS_MESSAGE })
  groups: string[];
}

/** The query of `GET /admin/sockets`. */
export class ListSocketsQuery {
  @OptionalField()
  @IsIn(SOCKET_TYPES, { message: TYPE_MESSAGE })
  type?: 'inbound' | 'outbound';

  @OptionalField()
  @Matches(PATH_PATTERN, { message: PATH_MESSAGE })
  path?: string;

  /** Sockets in this group. */
  @OptionalField()
  @Matches(GROUP_PATTERN, { message: `group must match ${GROUP_PATTERN.source}` })
  group?: string;

  @OptionalField()
  @Matches(CLIENT_ID_PATTERN, { message: `client_id must match ${CLIENT_ID_PATTERN.source}` })
  client_id?: string;

  /** Page size, 1 to 500; 100 when absent. */
  @OptionalField()
  @Matches(/^(?:[1-9]\d?|[1-4]\d\d|500)$/, { message: 'limit must be a whole number from 1 to 500' })
  limit?: string;

  /** The `next` of the previous page. */
  @OptionalField()
  @Matches(/^[\x21-\x7E]{1,128}$/, { message: 'after must be a socket id' })
  after?: string;
}
