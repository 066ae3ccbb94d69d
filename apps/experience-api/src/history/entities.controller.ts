import { BadRequestException, Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RateLimiter, resolveClientAddress } from '@app/platform';
import { ConsumerTokenService, GROUP_PATTERN, GroupNotGrantedError, MAX_GROUPS } from '@app/token-store';
import { experienceConfig } from '../config/experience.config.js';
import { ApiErrors, CLIENT_ID_SCHEME, CONSUMER_TOKEN_SCHEME, DATABASE_UNAVAILABLE, HistoryErrorAnswer } from '../http/api-docs.js';
import { EntitiesPageAnswer } from './entities-page.answer.js';
import { TooManyReadsError } from './history.errors.js';
import { EntityHistory } from './entity-history.service.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;
/** No query value is longer: a list of groups at most. */
const MAX_VALUE_LENGTH = 4_096;

/**
 * `GET /entities?since=&limit=&groups=&epoch=`: history over HTTP, with a
 * consumer's token (`client_id` and `Authorization: Bearer` headers), for a
 * client that polls after an outage or cannot keep a socket. It reads what a
 * socket opened with the same groups would have received.
 */
@Controller('entities')
@ApiTags('history')
export class EntitiesController {
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    private readonly tokens: ConsumerTokenService,
    private readonly history: EntityHistory,
  ) {
    // a read costs about what a handshake does: it gets an allowance per address of the same size, of its own
    this.limiter = new RateLimiter(config.handshakeRatePerSecond, config.handshakeBurst);
  }

  @Get()
  @ApiOperation({
    summary: 'Read the entity history',
    description:
      'What a socket opened with the same groups would have received after `since`, a page at a time. Read with `since=next_since` until `more` is `false`; then poll again later from `next_since`, or connect the socket with `last_seq=<next_since>` and the `epoch`. Each parameter at most once (else `<parameter> must be given once, as text`).',
  })
  @ApiSecurity({ [CLIENT_ID_SCHEME]: [], [CONSUMER_TOKEN_SCHEME]: [] })
  @ApiQuery({
    name: 'since',
    required: true,
    description:
      'The last `seq` received: entities after it are read. Digits only, at most 16, up to 2^53−1; `0` reads from the start of the history (`410` once anything was pruned).',
    schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `Entities per page; default ${DEFAULT_LIMIT}.`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT },
  })
  @ApiQuery({
    name: 'groups',
    required: false,
    description: `Comma-separated groups, as on a handshake (trimmed, repeats dropped, at most ${MAX_GROUPS} names matching \`${GROUP_PATTERN.source}\`), each granted to the client; absent: the client’s default groups.`,
    schema: { type: 'string' },
    example: 'orders,invoices',
  })
  @ApiQuery({
    name: 'epoch',
    required: false,
    description: 'The epoch `since` belongs to, from a welcome or an earlier page; another epoch is a `409`. Send it whenever you have it.',
    schema: { type: 'string' },
  })
  @ApiOkResponse({ description: 'A page of the history.', type: EntitiesPageAnswer })
  @ApiErrors({
    400: 'A missing or malformed `since`, a bad `limit`, a parameter given twice or empty, or bad `groups` (each message names it).',
    401: 'Missing, unknown or expired token (`missing, unknown or expired token`), as on a handshake.',
    403: 'A named group outside the client’s grants.',
    409: {
      description:
        '`epoch_changed`: `epoch` is not the history’s, or `since` is a `seq` this history never reached: the history was reset. Resynchronise from the source of truth; the body says where to resume.',
      type: HistoryErrorAnswer,
    },
    410: {
      description:
        '`history_expired`: entities after `since` are no longer all in the history (`HISTORY_RETENTION`, `HISTORY_MAX_ENTITIES`). Resynchronise from the source of truth; the body says where to resume.',
      type: HistoryErrorAnswer,
    },
    429: { description: 'The address used up its allowance (checked first).', retryAfter: true },
    503: DATABASE_UNAVAILABLE,
  })
  async read(@Req() request: Request, @Res() response: Response, @Query() query: Record<string, unknown>): Promise<void> {
    const address = resolveClientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], this.config.trustProxy);
    if (!this.limiter.tryTake(address)) throw new TooManyReadsError(this.limiter.retryAfterSeconds(address));
    const since = wholeNumber(query.since, 'since');
    if (since === undefined) throw new BadRequestException('since is required: the last seq received (0 to read from the start of the history)');
    const limit = wholeNumber(query.limit, 'limit') ?? DEFAULT_LIMIT;
    if (limit < 1 || limit > MAX_LIMIT) throw new BadRequestException(`limit must be between 1 and ${MAX_LIMIT}`);
    const epoch = text(query.epoch, 'epoch');
    const requested = groupList(text(query.groups, 'groups'));

    const bearer = request.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const clientId = request.headers['client_id'];
    const consumer = await this.tokens.authenticate(typeof clientId === 'string' ? clientId.trim() : undefined, bearer);
    const refused = consumer.grants.firstRefused(requested);
    if (refused !== undefined) throw new GroupNotGrantedError(consumer.clientId, refused);
    const groups = requested.length > 0 ? requested : [...consumer.defaultGroups];

    const page = await this.history.page(since, limit, groups, epoch);
    // the entities go out as the very frames consumers received, not parsed and printed again
    const head = JSON.stringify({ epoch: this.history.epoch, last_seq: page.lastSeq, next_since: page.nextSince, more: page.more });
    response
      .status(200)
      .type('application/json')
      .send(`${head.slice(0, -1)},"entities":[${page.entries.map((entry) => entry.frame.toString('utf8')).join(',')}]}`);
  }
}

function text(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_LENGTH) throw new BadRequestException(`${name} must be given once, as text`);
  return value;
}

function wholeNumber(value: unknown, name: string): number | undefined {
  const given = text(value, name);
  if (given === undefined) return undefined;
  if (!/^\d{1,16}$/.test(given) || !Number.isSafeInteger(Number(given))) throw new BadRequestException(`${name} must be a whole number`);
  return Number(given);
}

function groupList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const groups = [
    ...new Set(
      value
        .split(',')
        .map((group) => group.trim())
        .filter((group) => group !== ''),
    ),
  ];
  if (groups.length > MAX_GROUPS || groups.some((group) => !GROUP_PATTERN.test(group))) {
    throw new BadRequestException(`groups must be at most ${MAX_GROUPS} names matching ${GROUP_PATTERN.source}`);
  }
  return groups;
}
