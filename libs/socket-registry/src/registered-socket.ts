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

/** The groups of every socket in none: one empty set for all of them, never changed. */
const NO_GROUPS: ReadonlySet<string> = new Set();

/** A live socket with what the registry knows of it. Groups change only through the registry. */
export class RegisteredSocket {
  /** Its groups; made at its first group (an empty Set per socket costs about 200 bytes). */
  private joined?: Set<string>;
  /** When it connected, in epoch milliseconds (a Date per socket costs about 100 bytes). */
  private readonly connectedAtMs: number;
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
    connectedAt = new Date(),
  ) {
    this.connectedAtMs = connectedAt.getTime();
  }

  get connectedAt(): Date {
    return new Date(this.connectedAtMs);
  }

  /** The groups it is in. */
  get groups(): ReadonlySet<string> {
    return this.joined ?? NO_GROUPS;
  }

  /** Puts it in the group; false if it was in it already. For the registry, which indexes members by group. */
  join(group: string): boolean {
    if (this.joined?.has(group)) return false;
    (this.joined ??= new Set()).add(group);
    return true;
  }

  /** Takes it out of the group; false if it was not in it. For the registry. */
  leave(group: string): boolean {
    return this.joined?.delete(group) ?? false;
  }

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
