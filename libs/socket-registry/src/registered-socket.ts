import type { WebSocket } from 'ws';
import type { SocketInfo, SocketType } from './socket-selector.js';

/** A live socket with what the registry knows of it. Groups change only through the registry. */
export class RegisteredSocket {
  readonly groups = new Set<string>();
  /** Epoch milliseconds: a number costs nothing per socket, a Date ~100 bytes. */
  readonly connectedAt = Date.now();

  constructor(
    readonly id: string,
    readonly type: SocketType,
    readonly path: string,
    readonly clientId: string | null,
    readonly remoteAddress: string,
    readonly socket: WebSocket,
  ) {}

  info(): SocketInfo {
    return {
      socket_id: this.id,
      type: this.type,
      path: this.path,
      client_id: this.clientId,
      groups: [...this.groups],
      remote_address: this.remoteAddress,
      connected_at: new Date(this.connectedAt).toISOString(),
    };
  }
}
