import type { WebSocket } from 'ws';
import type { SocketType } from './socket-selector.js';

/** A live socket with what the registry knows of it. Groups change only through the registry. */
export class RegisteredSocket {
  readonly groups = new Set<string>();

  constructor(
    readonly id: string,
    readonly type: SocketType,
    readonly path: string,
    readonly clientId: string | null,
    readonly remoteAddress: string,
    readonly socket: WebSocket,
  ) {}
}
