import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '@app/platform';

/** Where a refusal happened. */
export type RefusalPlace = 'handshake' | 'http';

/** A refusal as the operator console lists it; repeats of one refusal in a row are one line with a count. */
export interface Refusal {
  readonly place: RefusalPlace;
  /** `GET /ws/publish` for a handshake, the method and path for an HTTP request. */
  readonly route: string;
  readonly status: number;
  /** The refusal's code: `invalid_token`, `forbidden`, `shed_at_accept`… */
  readonly code: string;
  readonly remote_address: string;
  readonly client_id: string | null;
  readonly count: number;
  readonly first_at: string;
  readonly last_at: string;
}

/** Lines kept: enough for the last few minutes of a noisy day, never more. */
const LIMIT = 200;

/**
 * The refusals of the last while (handshakes refused, HTTP requests answered
 * 401, 403 or 429), newest first, for the operator console. Bounded: a flood
 * folds into one line per caller and refusal, and the oldest lines go first.
 * Never holds a token or a secret: only codes, addresses and client ids.
 */
@Injectable()
export class RecentRefusals {
  private readonly lines: Array<Omit<Refusal, 'first_at' | 'last_at'> & { count: number; firstAt: number; lastAt: number }> = [];

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  add(place: RefusalPlace, route: string, status: number, code: string, remoteAddress: string, clientId: string | undefined): void {
    const now = this.clock.now();
    const client = clientId === undefined ? null : clientId.slice(0, 64);
    const newest = this.lines.at(-1);
    if (newest && newest.route === route && newest.code === code && newest.remote_address === remoteAddress && newest.client_id === client) {
      newest.count += 1;
      newest.lastAt = now;
      return;
    }
    this.lines.push({ place, route: route.slice(0, 200), status, code, remote_address: remoteAddress, client_id: client, count: 1, firstAt: now, lastAt: now });
    if (this.lines.length > LIMIT) this.lines.shift();
  }

  /** Newest first. */
  list(): Refusal[] {
    return this.lines
      .map(({ firstAt, lastAt, ...line }) => ({ ...line, first_at: new Date(firstAt).toISOString(), last_at: new Date(lastAt).toISOString() }))
      .reverse();
  }
}
