import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';

/**
 * Decides on an HTTP upgrade request before the WebSocket handshake completes.
 * A gateway names its guard in its options (`upgradeGuard`), and
 * GuardedWsAdapter runs it for every upgrade on the gateway's path.
 */
export interface UpgradeGuard<TAuthorization = unknown> {
  /** Resolves with what the connection needs to know, or throws HandshakeRefusedError. */
  authorize(request: IncomingMessage): Promise<TAuthorization>;
  /** Undoes `authorize` when the upgrade did not complete after all (the client went away). */
  abandon(authorization: TAuthorization): Promise<void>;
}

const authorizations = new WeakMap<WebSocket, unknown>();

export function attachAuthorization(socket: WebSocket, authorization: unknown): void {
  authorizations.set(socket, authorization);
}

/**
 * What the upgrade guard resolved for this socket, handed over once: the
 * gateway that takes the socket keeps what it needs of it, and nothing stays
 * behind for the socket's whole life.
 */
export function authorizationOf<T>(socket: WebSocket): T {
  if (!authorizations.has(socket)) throw new Error('socket was not upgraded through an upgrade guard');
  const authorization = authorizations.get(socket) as T;
  authorizations.delete(socket);
  return authorization;
}
