import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsString, Matches, ValidateBy, type ValidationArguments } from 'class-validator';
import { formatDuration, parseDuration } from '@app/platform';
import { GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField } from '../http/body-fields.js';
import { DEFAULT_RECONNECT, OUTBOUND_SOCKET_ID_PATTERN, type ReconnectPolicy } from '../outbound-sockets/outbound-socket.js';

export const MAX_URL_LENGTH = 2_048;
export const MAX_HEADERS = 32;
export const MAX_HEADER_VALUE_LENGTH = 4_096;
/** Names and values together. */
export const MAX_HEADERS_BYTES = 8_192;
const MIN_DELAY_MS = 10;
const MAX_DELAY_MS = 3_600_000;
const MAX_ATTEMPTS = 1_000_000;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Headers of the handshake itself, which the client sets. */
const RESERVED_HEADERS = new Set(['host', 'connection', 'upgrade', 'content-length', 'transfer-encoding']);

/** Why a URL cannot be connected to, or undefined. */
export function urlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'url must be a ws:// or wss:// URL';
  if (value.length > MAX_URL_LENGTH) return `url must be at most ${MAX_URL_LENGTH} characters long`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'url must be a ws:// or wss:// URL';
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return 'url must be a ws:// or wss:// URL';
  if (url.username || url.password) return 'url must not carry credentials; send them in headers, which are never shown';
  if (url.hash) return 'url must not have a fragment';
  return undefined;
}

/** What is wrong with `headers`, naming headers but never showing a value. */
export function headerProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['headers must be an object of header names to string values'];
  const entries = Object.entries(value);
  if (entries.length > MAX_HEADERS) return [`headers must have at most ${MAX_HEADERS} entries`];
  const problems: string[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const [name, headerValue] of entries) {
    const shown = HEADER_NAME.test(name) ? name : JSON.stringify(name.slice(0, 64));
    if (!HEADER_NAME.test(name)) problems.push(`headers: ${shown} is not a header name`);
    else if (RESERVED_HEADERS.has(name.toLowerCase()) || name.toLowerCase().startsWith('sec-websocket-')) {
      problems.push(`headers: ${shown} is set by the WebSocket handshake itself`);
    } else if (seen.has(name.toLowerCase())) problems.push(`headers: ${shown} is given twice`);
    seen.add(name.toLowerCase());
    if (typeof headerValue !== 'string') problems.push(`headers.${shown} must be a string`);
    else if (headerValue.length > MAX_HEADER_VALUE_LENGTH) problems.push(`headers.${shown} must be at most ${MAX_HEADER_VALUE_LENGTH} characters long`);
    else if (!HEADER_VALUE.test(headerValue)) problems.push(`headers.${shown} must be printable ASCII`);
    bytes += name.length + (typeof headerValue === 'string' ? headerValue.length : 0);
  }
  if (bytes > MAX_HEADERS_BYTES) problems.push(`headers must be at most ${MAX_HEADERS_BYTES} bytes in all`);
  return problems;
}

const RECONNECT_FIELDS = new Set(['initial_delay', 'max_delay', 'attempts']);

/** The policy `reconnect` asks for (defaults for what it leaves out), or its problems, each naming its field. */
export function readReconnect(value: unknown): { policy?: ReconnectPolicy; problems: string[] } {
  if (value === undefined || value === null) return { policy: DEFAULT_RECONNECT, problems: [] };
  if (typeof value !== 'object' || Array.isArray(value)) return { problems: ['reconnect must be an object: {initial_delay?, max_delay?, attempts?}'] };
  const given = value as Record<string, unknown>;
  const problems = Object.keys(given)
    .filter((key) => !RECONNECT_FIELDS.has(key))
    .map((key) => `property reconnect.${key.slice(0, 64)} should not exist`);
  const delay = (field: string, fallback: number): number | undefined => {
    const raw = given[field];
    if (raw === undefined || raw === null) return fallback;
    const ms = parseDuration(raw);
    if (ms === undefined || ms < MIN_DELAY_MS || ms > MAX_DELAY_MS) {
      problems.push(`reconnect.${field} must be a duration from ${MIN_DELAY_MS}ms to ${formatDuration(MAX_DELAY_MS)} ("500ms", "1s", "5m")`);
      return undefined;
    }
    return ms;
  };
  const initialDelayMs = delay('initial_delay', DEFAULT_RECONNECT.initialDelayMs);
  const maxDelayMs = delay('max_delay', Math.max(DEFAULT_RECONNECT.maxDelayMs, initialDelayMs ?? 0));
  let attempts: number | undefined = DEFAULT_RECONNECT.attempts;
  if (given.attempts !== undefined && given.attempts !== null) {
    if (!Number.isSafeInteger(given.attempts) || (given.attempts as number) < 0 || (given.attempts as number) > MAX_ATTEMPTS) {
      problems.push(`reconnect.attempts must be a whole number from 0 to ${MAX_ATTEMPTS}`);
      attempts = undefined;
    } else attempts = given.attempts as number;
  }
  if (initialDelayMs !== undefined && maxDelayMs !== undefined && maxDelayMs < initialDelayMs) {
    problems.push('reconnect.max_delay must not be shorter than reconnect.initial_delay');
  }
  if (problems.length > 0 || initialDelayMs === undefined || maxDelayMs === undefined || attempts === undefined) return { problems };
  return { policy: { initialDelayMs, maxDelayMs, attempts }, problems };
}

/** A rule whose message lists every problem `problemsOf` finds, each already naming its field. */
function Checked(name: string, problemsOf: (value: unknown) => string[]): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value: unknown) => problemsOf(value).length === 0,
      defaultMessage: (args?: ValidationArguments) => problemsOf(args?.value).join('; '),
    },
  });
}

const GROUPS_MESSAGE = (field: string) => `each of ${field} must match ${GROUP_PATTERN.source}`;

const DELAY = {
  oneOf: [{ type: 'string', example: '1s' }, { type: 'number' }],
  nullable: true,
};

/** The shape of `reconnect`, for the OpenAPI document; readReconnect checks it. */
class ReconnectPolicyBody {
  @ApiPropertyOptional({
    ...DELAY,
    description: 'A duration (`"500ms"`, `"1s"`, `"5m"`, or a number of seconds) from `10ms` to `1h`; default `1s`. It doubles with each attempt.',
  })
  initial_delay?: string | number;

  @ApiPropertyOptional({
    ...DELAY,
    description: 'A duration from `10ms` to `1h`, not shorter than `initial_delay`; default `30s` (or `initial_delay` when longer).',
  })
  max_delay?: string | number;

  @ApiPropertyOptional({ description: 'A whole number from 0 to 1,000,000; default `10`.', type: 'integer', minimum: 0, maximum: MAX_ATTEMPTS, nullable: true })
  attempts?: number;
}

/** The body of `POST /admin/outbound-sockets`. `null` for an optional field means "not given". */
export class CreateOutboundSocketDto {
  @ApiProperty({
    description:
      'A `ws://` or `wss://` URL of at most 2,048 characters, without credentials (`user:pass@`) and without a fragment. Its query string is kept and sent, but never logged.',
    maxLength: MAX_URL_LENGTH,
    example: 'wss://feed.example.com/prices',
  })
  @Checked('isWebSocketUrl', (value) => {
    const problem = urlProblem(value);
    return problem ? [problem] : [];
  })
  url: string;

  /** Sent with the upgrade request: stored, never logged, never shown. */
  @ApiPropertyOptional({
    description:
      'Header names to string values, sent with the upgrade request: at most 32 headers, each value at most 4,096 printable ASCII characters, 8,192 bytes in all. `Host`, `Connection`, `Upgrade`, `Content-Length`, `Transfer-Encoding` and `Sec-WebSocket-*` are refused. Stored, never logged nor shown (answers show `"***"`).',
    type: 'object',
    additionalProperties: { type: 'string', maxLength: MAX_HEADER_VALUE_LENGTH },
    maxProperties: MAX_HEADERS,
    nullable: true,
    example: { Authorization: 'Bearer feed-token' },
  })
  @OptionalField()
  @Checked('isHeaders', headerProblems)
  headers?: Record<string, string>;

  /** A UUID when absent. */
  @ApiPropertyOptional({
    description: 'In use by no stored outbound socket and no socket open on the instance asked; absent: a UUID.',
    pattern: OUTBOUND_SOCKET_ID_PATTERN.source,
    nullable: true,
    example: 'prices-feed',
  })
  @OptionalField()
  @IsString()
  @Matches(OUTBOUND_SOCKET_ID_PATTERN, { message: `socket_id must match ${OUTBOUND_SOCKET_ID_PATTERN.source}` })
  socket_id?: string;

  /** The groups the socket is in, so that a broadcast to them reaches it. */
  @ApiPropertyOptional({
    description: 'The groups the socket itself is in, so that a broadcast to one of them reaches it. Repeats are dropped.',
    type: [String],
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GROUP_PATTERN.source },
    nullable: true,
  })
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: GROUPS_MESSAGE('groups') })
  groups?: string[];

  @ApiPropertyOptional({ description: 'How the socket reconnects (docs/outbound-sockets.md, "Reconnecting").', type: ReconnectPolicyBody, nullable: true })
  @OptionalField()
  @Checked('isReconnectPolicy', (value) => readReconnect(value).problems)
  reconnect?: { initial_delay?: string | number; max_delay?: string | number; attempts?: number };

  /** Each text message received is published as an entity to these groups. */
  @ApiPropertyOptional({
    description: 'Not empty: each text message received is published as an entity to these groups; absent: nothing is published.',
    type: [String],
    minItems: 1,
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GROUP_PATTERN.source },
    nullable: true,
    example: ['prices'],
  })
  @OptionalField()
  @IsArray()
  @ArrayNotEmpty({ message: 'relay_to_groups must not be empty; leave it out to relay nothing' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: GROUPS_MESSAGE('relay_to_groups') })
  relay_to_groups?: string[];
}
