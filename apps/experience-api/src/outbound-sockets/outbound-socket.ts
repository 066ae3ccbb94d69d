import type { SocketState } from '@app/socket-registry';

/** At most this many outbound sockets, stored and across every instance; each instance opens at most as many. */
export const MAX_OUTBOUND_SOCKETS = 1_000;

/** What a chosen `socket_id` may be: safe in a URL path, a log line and an entity id. */
export const OUTBOUND_SOCKET_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** How an outbound socket reconnects after it lost its connection (or could not open it). */
export interface ReconnectPolicy {
  /** The wait before the first attempt; it doubles per failed attempt (with jitter), up to `maxDelayMs`. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Attempts in a row that may fail before the socket gives up (state `failed`); an open connection starts the count over. */
  readonly attempts: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 1_000, maxDelayMs: 30_000, attempts: 10 };

/** An outbound socket as an operator asked for it. */
export interface OutboundSocketSpec {
  readonly socketId: string;
  readonly url: string;
  /** Sent with the upgrade request; may carry credentials: stored, never logged nor shown. */
  readonly headers: Readonly<Record<string, string>>;
  /** The groups the socket is in, for broadcasts by group. */
  readonly groups: readonly string[];
  /** Null: what it receives is not published. */
  readonly relayToGroups: readonly string[] | null;
  readonly reconnect: ReconnectPolicy;
}

/** An outbound socket as stored, with the instance that holds it open. */
export interface StoredOutboundSocket extends OutboundSocketSpec {
  /** Null when no instance holds a live lease on it. */
  readonly owner: string | null;
  /** As its owner last reported it. */
  readonly state: SocketState;
  readonly createdAt: Date;
}

/** The URL as it may be logged: origin and path, never the query (it may carry a token). */
export function loggableUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
