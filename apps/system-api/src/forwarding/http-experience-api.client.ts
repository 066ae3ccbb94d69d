import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { CLOCK, type Clock } from '@app/platform';
import { systemConfig } from '../config/system.config.js';
import type { PendingItem } from '../outbox/outbox.repository.js';
import { ExperienceApiClient, type ForwardOutcome, settled } from './experience-api.client.js';

/** Answers that say experience-api (or the way to it) is away or busy, not that this item is wrong. */
const UNAVAILABLE = new Set([408, 429, 502, 503, 504]);
/** Answers about the deployment, equal for every item: 403 the allow list misses this instance, 404 a wrong EXPERIENCE_API_URL. */
const MISDEPLOYED = new Set([403, 404]);
/** Answers of an experience-api without `POST /entities` (older than it): its items go one by one to `POST /entity`. */
const NO_BULK_ROUTE = new Set([404, 405]);

/** `POST /entities` takes at most this many entities… */
export const MAX_BULK_ENTITIES = 1_000;
/** …in a body of at most 8 MiB; a little is kept for the brackets and commas. */
export const MAX_BULK_BYTES = 8 * 1_048_576 - 1_024;
/** After an answer saying there is no `POST /entities`, items go one by one for this long before it is tried again. */
const NO_BULK_RETRY_MS = 300_000;
/** How long an answer may take: one entity, or a batch. */
const TIMEOUT_MS = 10_000;
const BULK_TIMEOUT_MS = 30_000;

/** `HTTP 400 invalid_request: data is required`, from the `{error, message}` body, or the start of the text. */
function describeAnswer(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    if (typeof message === 'string') return `HTTP ${status}${typeof body.error === 'string' ? ` ${body.error}` : ''}: ${message.slice(0, 500)}`;
  } catch {
    // not JSON: the text itself
  }
  return `HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
}

/** Which outcome an answer of experience-api about one item is (`POST /entity`, or one result of `POST /entities`); the one place that rule lives. */
export function outcomeOf(status: number, text: string): ForwardOutcome {
  if (status === 200 || status === 202) return { kind: 'accepted' };
  const reason = describeAnswer(status, text);
  if (UNAVAILABLE.has(status) || MISDEPLOYED.has(status)) return { kind: 'unavailable', reason };
  if (status >= 400 && status < 500) return { kind: 'rejected', reason };
  if (status >= 500) return { kind: 'server_error', reason };
  // 1xx and other 2xx/3xx: not what /entity answers; retry rather than lose the item
  return { kind: 'unavailable', reason };
}

/** One element of the `results` of `POST /entities`. */
interface BulkResult {
  readonly seq?: unknown;
  readonly error?: unknown;
  readonly message?: unknown;
  readonly status?: unknown;
}

/**
 * What an answer of `POST /entities` says of its items: one outcome per item
 * (a `200` with a result each), one outcome for the request as a whole (the
 * first item's: unreachable, busy, misdeployed), or `undefined` when the
 * items must be offered one by one instead (an experience-api without the
 * route, or one that refused or failed the request as a whole, so that each
 * item gets its own answer).
 */
export function bulkOutcomesOf(status: number, text: string, count: number): ForwardOutcome[] | undefined {
  if (status === 200) {
    let results: unknown;
    try {
      results = (JSON.parse(text) as { results?: unknown }).results;
    } catch {
      return undefined;
    }
    if (!Array.isArray(results) || results.length !== count) return undefined;
    return (results as BulkResult[]).map((result) => {
      if (typeof result?.seq === 'number') return { kind: 'accepted' };
      const itemStatus = typeof result?.status === 'number' ? result.status : 500;
      return outcomeOf(itemStatus, JSON.stringify({ error: result?.error, message: result?.message }));
    });
  }
  if (NO_BULK_ROUTE.has(status)) return undefined;
  const whole = outcomeOf(status, text);
  return whole.kind === 'unavailable' ? [whole] : undefined;
}

/** Items in requests `POST /entities` takes: at most MAX_BULK_ENTITIES and MAX_BULK_BYTES each, in order. */
function chunksOf(items: readonly PendingItem[]): Array<{ items: PendingItem[]; bodies: string[] }> {
  const chunks: Array<{ items: PendingItem[]; bodies: string[]; bytes: number }> = [];
  for (const item of items) {
    const body = entityBody(item);
    const bytes = Buffer.byteLength(body) + 1;
    const last = chunks.at(-1);
    if (last && last.items.length < MAX_BULK_ENTITIES && last.bytes + bytes <= MAX_BULK_BYTES) {
      last.items.push(item);
      last.bodies.push(body);
      last.bytes += bytes;
    } else chunks.push({ items: [item], bodies: [body], bytes });
  }
  return chunks;
}

/** The entity of an item, as `POST /entity` takes it, with the item's id as the idempotency key. */
function entityBody(item: PendingItem): string {
  return JSON.stringify({ id: item.id, ...(item.groups ? { groups: item.groups } : {}), data: item.data });
}

/**
 * experience-api over fetch: each source's items in batches through
 * `POST /entities`, with each item's id as its idempotency key; item by item
 * through `POST /entity` when experience-api has no `POST /entities` (an
 * older version), or when it refused or failed a request as a whole, so that
 * every item gets the answer it would get alone.
 */
@Injectable()
export class HttpExperienceApiClient extends ExperienceApiClient {
  private readonly logger = new Logger(HttpExperienceApiClient.name);
  private readonly entityUrl: string;
  private readonly entitiesUrl: string;
  /** Until when items go one by one, experience-api having answered that it has no `POST /entities`. */
  private oneByOneUntil = 0;

  constructor(
    @Inject(systemConfig.KEY) config: ConfigType<typeof systemConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
    this.entityUrl = new URL('/entity', config.experienceApiUrl).toString();
    this.entitiesUrl = new URL('/entities', config.experienceApiUrl).toString();
  }

  async publishAll(items: readonly PendingItem[]): Promise<ForwardOutcome[]> {
    const outcomes: ForwardOutcome[] = [];
    for (const chunk of chunksOf(items)) {
      const answered = await this.publishChunk(chunk.items, chunk.bodies);
      for (const outcome of answered) {
        outcomes.push(outcome);
        if (!settled(outcome)) return outcomes;
      }
    }
    return outcomes;
  }

  private async publishChunk(items: readonly PendingItem[], bodies: readonly string[]): Promise<ForwardOutcome[]> {
    if (items.length === 1 || this.clock.now() < this.oneByOneUntil) return this.oneByOne(items, bodies);
    const answer = await this.post(this.entitiesUrl, `[${bodies.join(',')}]`, BULK_TIMEOUT_MS);
    if ('outcome' in answer) return [answer.outcome];
    const outcomes = bulkOutcomesOf(answer.status, answer.text, items.length);
    if (outcomes) return outcomes;
    if (NO_BULK_ROUTE.has(answer.status)) {
      this.oneByOneUntil = this.clock.now() + NO_BULK_RETRY_MS;
      this.logger.warn(`experience-api has no POST /entities (HTTP ${answer.status}); forwarding item by item through POST /entity`);
    } else {
      this.logger.warn(
        `experience-api answered a batch of ${items.length} as a whole (${describeAnswer(answer.status, answer.text)}); offering its items one by one`,
      );
    }
    return this.oneByOne(items, bodies);
  }

  /** Each item through `POST /entity`, stopping after the first that is not settled. */
  private async oneByOne(items: readonly PendingItem[], bodies: readonly string[]): Promise<ForwardOutcome[]> {
    const outcomes: ForwardOutcome[] = [];
    for (const body of bodies) {
      const answer = await this.post(this.entityUrl, body, TIMEOUT_MS);
      const outcome = 'outcome' in answer ? answer.outcome : outcomeOf(answer.status, answer.text);
      outcomes.push(outcome);
      if (!settled(outcome)) break;
    }
    return outcomes;
  }

  private async post(url: string, body: string, timeoutMs: number): Promise<{ status: number; text: string } | { outcome: ForwardOutcome }> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { outcome: { kind: 'unavailable', reason: cause ?? (error as Error).message } };
    }
  }
}
