import type { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

/** The `code` of the error ws raises for a frame or message over `maxPayload`. */
export const PAYLOAD_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/** The part of a `ws` WebSocket this relies on; `ws` keeps it private. */
interface WsInternals {
  readonly _receiver?: Partial<EventEmitter>;
}

/**
 * Calls `listener` when the peer sends a frame over `maxPayload`, while the
 * socket is still open: `ws` closes it (1009) inside its receiver's error
 * handler and only then emits 'error', when nothing more may be sent. Leans
 * on `ws`'s private `_receiver` (pinned by oversize-frames.spec.ts); false
 * when it is not there, and the caller learns of the frame from 'error' alone.
 */
export function onOversizeFrame(socket: WebSocket, listener: () => void): boolean {
  const receiver = (socket as unknown as WsInternals)._receiver;
  if (typeof receiver?.prependListener !== 'function') return false;
  receiver.prependListener('error', (error: Error & { code?: string }) => {
    if (error.code === PAYLOAD_TOO_LARGE) listener();
  });
  return true;
}
