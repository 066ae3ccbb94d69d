import type { SocketType } from '@app/socket-registry';

/**
 * The triggers of the gateway, as in-process events (`@nestjs/event-emitter`):
 * code in this process subscribes with `@OnEvent(SocketEvent.CONNECTED)` and
 * receives the payload typed below. Each is emitted on the instance where it
 * happened.
 *
 * How they are emitted (see SocketEvents): synchronously, on the path where
 * the thing happened, each listener in turn; a listener that throws or whose
 * promise rejects is logged and skipped, and never reaches the gateway, nor
 * stops the listeners after it. So a listener must be quick: anything slow
 * (I/O, a webhook) is queued by the listener and done off the socket path,
 * as `webhooks/` does. Payloads are plain data, shared by every listener:
 * never change them.
 */
export const SocketEvent = {
  /** A socket opened: a consumer connected (inbound), or an outbound socket connected (each time it does). */
  CONNECTED: 'socket.connected',
  /** A socket on an inbound path that allows messages received one. */
  INBOUND_MESSAGE: 'socket.inbound_message',
  /** An outbound socket received a message from the peer it connected to. */
  OUTBOUND_MESSAGE: 'socket.outbound_message',
  /** A socket closed, with the code and reason of its close. */
  CLOSED: 'socket.closed',
  /** An entity was published (202), with its seq; emitted on the instance that took the POST. */
  ENTITY_PUBLISHED: 'entity.published',
} as const;

export type SocketEventName = (typeof SocketEvent)[keyof typeof SocketEvent];

/** The socket an event is about. */
export interface SocketRef {
  readonly socketId: string;
  readonly type: SocketType;
  readonly path: string;
  /** Null for an outbound socket. */
  readonly clientId: string | null;
  readonly remoteAddress: string;
}

export interface SocketConnectedEvent extends SocketRef {
  readonly groups: readonly string[];
  /** ISO 8601. */
  readonly connectedAt: string;
}

export interface SocketMessageEvent extends SocketRef {
  /** The message as received: text frames as a string, binary frames as a Buffer. */
  readonly data: string | Buffer;
  readonly binary: boolean;
}

export interface SocketClosedEvent extends SocketRef {
  readonly code: number;
  readonly reason: string;
}

export interface EntityPublishedEvent {
  readonly id: string;
  readonly seq: number;
  /** Undefined: every consumer. */
  readonly groups: readonly string[] | undefined;
}

/** Payload by event name, for typed emitters and listeners. */
export interface SocketEventPayloads {
  [SocketEvent.CONNECTED]: SocketConnectedEvent;
  [SocketEvent.INBOUND_MESSAGE]: SocketMessageEvent;
  [SocketEvent.OUTBOUND_MESSAGE]: SocketMessageEvent;
  [SocketEvent.CLOSED]: SocketClosedEvent;
  [SocketEvent.ENTITY_PUBLISHED]: EntityPublishedEvent;
}
