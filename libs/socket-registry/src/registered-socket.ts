import type { WebSocket } from 'ws';
import type { FrameHold } from './frame-hold.js';
import type { SocketType } from './socket-selector.js';

/**
 * What a socket is doing. An inbound socket is registered open and leaves the
 * registry when it closes; an outbound socket stays registered between its
 * connections (connecting, reconnecting) and after it gave up (failed).
 */
export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'failed';

/** A socket as operators see it, wherever it is open: plain data, so that it can travel between instances. */
export interface SocketInfo {
  readonly socketId: string;
  readonly type: SocketType;
  readonly path: string;
  readonly clientId: string | null;
  readonly groups: readonly string[];
  readonly remoteAddress: string;
  /** ISO 8601. */
  readonly connectedAt: string;
  readonly messagesSent: number;
  readonly bytesBuffered: number;
  readonly state: SocketState;
}

/** A live socket with what the registry knows of it. Groups change only through the registry. */
export class RegisteredSocket {
  readonly groups = new Set<string>();
  /** Frames written to it (entities, messages) since it was registered. */
  messagesSent = 0;
  state: SocketState = 'open';
  /**
   * How an operation closes this socket, when closing its connection is not
   * the end of it: an outbound socket would reconnect, so its manager deletes
   * it instead. Unset: the connection is closed with a close frame.
   */
  closer?: (code: number, reason: string) => void;
  /**
   * Set while the socket cannot be written to in turn (a consumer replaying
   * what it missed): deliveries go into the hold instead of the socket.
   */
  hold?: FrameHold;

  constructor(
    readonly id: string,
    readonly type: SocketType,
    readonly path: string,
    readonly clientId: string | null,
    readonly remoteAddress: string,
    /** An outbound socket gets a new connection each time it reconnects. */
    public socket: WebSocket,
    readonly connectedAt = new Date(),
  ) {}

  info(): SocketInfo {
    return {
      socketId: this.id,
      type: this.type,
      path: this.path,
      clientId: this.clientId,
      groups: [...this.groups],
      remoteAddress: this.remoteAddress,
      connectedAt: this.connectedAt.toISOString(),
      messagesSent: this.messagesSent,
      bytesBuffered: this.socket.bufferedAmount,
      state: this.state,
    };
  }
}
