import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** The size of a server-to-client frame header (unmasked) for a payload of `length` bytes. */
function headerSize(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/**
 * Encodes payloads as consecutive WebSocket text frames (FIN set, unmasked,
 * as a server sends them) in one buffer. Server frames carry no mask, so the
 * very same bytes are right for every socket: a broadcast is framed once.
 */
export function encodeTextFrames(payloads: readonly Buffer[]): Buffer {
  let size = 0;
  for (const payload of payloads) size += headerSize(payload.length) + payload.length;
  const wire = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const payload of payloads) {
    const length = payload.length;
    wire[offset] = 0x81;
    if (length < 126) {
      wire[offset + 1] = length;
      offset += 2;
    } else if (length < 65_536) {
      wire[offset + 1] = 126;
      wire.writeUInt16BE(length, offset + 2);
      offset += 4;
    } else {
      wire[offset + 1] = 127;
      wire.writeBigUInt64BE(BigInt(length), offset + 2);
      offset += 10;
    }
    offset += payload.copy(wire, offset);
  }
  return wire;
}

/** The parts of a `ws` socket that writing pre-encoded frames relies on; `ws` keeps them private. */
interface WsInternals {
  /** False for a socket this process opened as a client: its frames must be masked. */
  readonly _isServer?: boolean;
  readonly _socket?: Socket;
  readonly _sender?: { readonly _state?: number; readonly _queue?: readonly unknown[] };
  readonly _extensions?: Record<string, unknown>;
}

const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The state of a `ws` Sender that is not waiting on compression or a Blob, so nothing is queued ahead. */
const SENDER_IDLE = 0;

/**
 * The TCP socket under a `ws` WebSocket, when pre-encoded frames may be
 * written to it directly: the server's side of a connection, no permessage-deflate (frames would need
 * compressing per socket) and nothing queued in ws's sender (a direct write
 * would overtake it). Undefined otherwise, and for any `ws` whose internals
 * differ: the caller then falls back to `socket.send`.
 */
export function rawTransport(socket: WebSocket): Socket | undefined {
  const internals = socket as unknown as WsInternals;
  // a client's frames are masked, each with a key of its own: unmasked server frames would break the connection
  if (internals._isServer !== true) return undefined;
  const transport = internals._socket;
  const sender = internals._sender;
  if (!transport || !transport.writable || sender?._state !== SENDER_IDLE || sender._queue?.length !== 0) return undefined;
  if (internals._extensions?.[PERMESSAGE_DEFLATE] !== undefined) return undefined;
  return transport;
}
