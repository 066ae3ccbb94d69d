import { Inject, Injectable } from '@nestjs/common';
import type { SystemConfig } from '../config/system.config.js';
import { SYSTEM_CONFIG } from '../config/system-config.token.js';
import type { PendingItem } from './outbox.repository.js';

export type ForwardOutcome =
  /** experience-api has it: 202 published, or 200 a duplicate of an id it already published. */
  | { readonly kind: 'accepted' }
  /** experience-api will never take it (400, 413): a dead letter. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** Not now: unreachable, 5xx, 429, or 403 (this instance is not allow-listed yet). Keep it and retry. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** `POST /entity` on experience-api, with the item's id as the idempotency key. */
@Injectable()
export class ExperienceApiClient {
  private readonly entityUrl: string;

  constructor(@Inject(SYSTEM_CONFIG) config: SystemConfig) {
    this.entityUrl = new URL('/entity', config.experienceApiUrl).toString();
  }

  async publish(item: PendingItem): Promise<ForwardOutcome> {
    let response: Response;
    try {
      response = await fetch(this.entityUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: item.id, ...(item.groups ? { groups: item.groups } : {}), data: item.data }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { kind: 'unavailable', reason: cause ?? (error as Error).message };
    }
    const text = await response.text().catch(() => '');
    if (response.status === 200 || response.status === 202) return { kind: 'accepted' };
    const reason = `HTTP ${response.status} ${text.slice(0, 300)}`;
    const permanent = response.status >= 400 && response.status < 500 && ![403, 404, 408, 429].includes(response.status);
    return permanent ? { kind: 'rejected', reason } : { kind: 'unavailable', reason };
  }
}
