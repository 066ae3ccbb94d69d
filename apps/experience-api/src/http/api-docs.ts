import { applyDecorators, type Type } from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions, ApiResponse } from '@nestjs/swagger';

/**
 * OpenAPI metadata shared by experience-api's controllers (served at `/docs`, see api-docs.ts):
 * the security schemes and the `{error, message}` body every error answer has. Decorators only
 * describe; nothing here changes an answer.
 */

/** `Authorization: Bearer <ADMIN_TOKEN>`: every route under `/admin`. */
export const ADMIN_TOKEN_SCHEME = 'admin_token';
/** The `client_id` header: with `client_secret` on `POST /consumers`, with a consumer token on `GET /entities`. */
export const CLIENT_ID_SCHEME = 'client_id';
/** The `client_secret` header of `POST /consumers`. */
export const CLIENT_SECRET_SCHEME = 'client_secret';
/** `Authorization: Basic base64(<client_id>:<client_secret>)`, the other form of `POST /consumers`'s credentials. */
export const CLIENT_BASIC_SCHEME = 'client_basic';
/** `Authorization: Bearer <token>` of a registered consumer. */
export const CONSUMER_TOKEN_SCHEME = 'consumer_token';

/** The body of every error answer (api-error.ts): `error` derived from the status (or more precise), `message` for logs. */
export class ApiErrorAnswer {
  @ApiProperty({
    description:
      'Derived from the status code (`bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `payload_too_large`, ' +
      '`unsupported_media_type`, `too_many_requests`, `internal_server_error`, `service_unavailable`…), except the two codes of the ' +
      'entity history, `epoch_changed` (409) and `history_expired` (410), more precise than their status’s.',
    example: 'bad_request',
  })
  error: string;

  @ApiProperty({
    description: 'A human-readable text meant for logs, not for parsing; validation errors name every offending field, separated by `; `.',
    example: 'id must be printable ASCII without spaces',
  })
  message: string;
}

/** A `409 epoch_changed` or `410 history_expired` of `GET /entities`: it also says where to resume once resynchronised. */
export class HistoryErrorAnswer extends ApiErrorAnswer {
  @ApiProperty({ description: 'The newest seq delivered by this instance: read from it once resynchronised.', example: 1050 })
  last_seq: number;

  @ApiProperty({ description: 'The history’s epoch, to send with the next read and on a handshake.', example: '3f6c2a9e-8d1b-4c0e-9a57-2b7d4e1f6a90' })
  epoch: string;
}

/** The property of a field that takes any JSON value, `null` included. */
export function anyJson(description: string): ApiPropertyOptions {
  return {
    description,
    oneOf: [{ type: 'object' }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
    nullable: true,
    example: { order: 1042, status: 'shipped' },
  };
}

/** One error answer: its description and, for a refusal that says when to come back, a `Retry-After` header. */
export interface ErrorAnswer {
  readonly description: string;
  readonly retryAfter?: boolean;
  readonly type?: Type<ApiErrorAnswer>;
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds until trying again makes sense (at least 1).', schema: { type: 'integer', minimum: 1 } } };

/** Documents the error answers of a route (or of every route of a controller), each with the `{error, message}` body. */
export function ApiErrors(answers: Readonly<Record<number, string | ErrorAnswer>>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(answers).map(([status, answer]) => {
      const { description, retryAfter, type } = typeof answer === 'string' ? { description: answer } : answer;
      return ApiResponse({ status: Number(status), description, type: type ?? ApiErrorAnswer, ...(retryAfter ? { headers: RETRY_AFTER } : {}) });
    }),
  );
}

/** The 400 every route that reads a JSON body answers to one that breaks the body rules (docs/api.md, "Request bodies"). */
export const BODY_REFUSED =
  'The body breaks a rule: not valid UTF-8 or JSON, not a JSON object, nested deeper than 64 levels, an unknown field (`property <name> should not exist`), or a field that breaks its rule (every one named).';
/** 413 of a body over its route's limit. */
export const bodyTooLarge = (limit: string): string => `The body is larger than ${limit} (\`request body is larger than <limit> bytes\`).`;
export const BODY_NOT_JSON =
  'A body not sent as JSON (`Content-Type: application/json` or `application/<something>+json`), or compressed other than gzip, deflate or br.';
/** 503 while the database cannot be reached. */
export const DATABASE_UNAVAILABLE = 'The database is unreachable (`the database is unavailable; try again shortly`).';
/** 503 of a socket or client operation that must reach every instance of a cluster. */
export const CLUSTER_UNAVAILABLE: ErrorAnswer = {
  description: 'In a cluster whose Redis is unreachable: nothing was done. Also when the database is unreachable (without `Retry-After`).',
  retryAfter: true,
};
