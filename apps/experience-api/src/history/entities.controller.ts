import { BadRequestException, Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Request, Response } from 'express';
import { RateLimiter, resolveClientAddress } from '@app/platform';
import { ConsumerTokenService, GROUP_PATTERN, GroupNotGrantedError, MAX_GROUPS } from '@app/token-store';
import { experienceConfig } from '../config/experience.config.js';
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
