import type { PendingItem } from '../outbox/outbox.repository.js';

export type ForwardOutcome =
  /** experience-api has it: 202 published, or 200 a duplicate of an id it already published. */
  | { readonly kind: 'accepted' }
  /** experience-api will never take this item (a 4xx about it): a dead letter. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** experience-api answered, but failed on this item (500, 501, 505…): retried a bounded number of times. */
  | { readonly kind: 'server_error'; readonly reason: string }
  /** Not now, for any item: unreachable, timed out, 408, 429, 502, 503, 504, or 403/404 (a deployment fault). Kept and retried until accepted. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** experience-api as system-api sees it; bound to its HTTP implementation in ForwardingModule. */
export abstract class ExperienceApiClient {
  /**
   * Offers items of one source, in order, to experience-api (`POST /entities`,
   * in as few requests as its limits allow). One outcome per item, in order,
   * for the first items: the list stops after the first outcome that is
   * neither `accepted` nor `rejected` (the items after it were not tried, or
   * not reliably: they are offered again). Never throws, every failure is an
   * outcome.
   */
  abstract publishAll(items: readonly PendingItem[]): Promise<ForwardOutcome[]>;
}

/** Whether the items after this outcome may be looked at: only when this one is settled for good. */
export function settled(outcome: ForwardOutcome): boolean {
  return outcome.kind === 'accepted' || outcome.kind === 'rejected';
}
