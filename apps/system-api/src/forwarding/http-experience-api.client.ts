import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { systemConfig } from '../config/system.config.js';
import type { PendingItem } from '../outbox/outbox.repository.js';
import { ExperienceApiClient, type ForwardOutcome } from './experience-api.client.js';

/** Answers that say experience-api (or the way to it) is away or busy, not that this item is wrong. */
const UNAVAILABLE = new Set([408, 429, 502, 503, 504]);
/** Answers about the deployment, equal for every item: 403 the allow list misses this instance, 404 a wrong EXPERIENCE_API_URL. */
const MISDEPLOYED = new Set([403, 404]);

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

/** Which outcome an answer of experience-api is; the one place that rule lives. */
export function outcomeOf(status: number, text: string): ForwardOutcome {
  if (status === 200 || status === 202) return { kind: 'accepted' };
  const reason = describeAnswer(status, text);
  if (UNAVAILABLE.has(status) || MISDEPLOYED.has(status)) return { kind: 'unavailable', reason };
  if (status >= 400 && status < 500) return { kind: 'rejected', reason };
  if (status >= 500) return { kind: 'server_error', reason };
  // 1xx and other 2xx/3xx: not what /entity answers; retry rather than lose the item
  return { kind: 'unavailable', reason };
}

/** `POST /entity` on experience-api over fetch, with the item's id as the idempotency key. */
@Injectable()
export class HttpExperienceApiClient extends ExperienceApiClient {
  private readonly entityUrl: string;

  constructor(@Inject(systemConfig.KEY) config: ConfigType<typeof systemConfig>) {
    super();
    this.entityUrl = new URL('/entity', config.experienceApiUrl).toString();
  }

  async publish(item: PendingItem): Promise<ForwardOutcome> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.entityUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: item.id, ...(item.groups ? { groups: item.groups } : {}), data: item.data }),
        signal: AbortSignal.timeout(10_000),
      });
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'unavailable', reason: cause ?? (error as Error).message };
    }
    return outcomeOf(response.status, text);
  }
}
