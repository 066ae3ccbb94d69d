import { MAX_OUTBOUND_SOCKETS } from './outbound-socket.js';

/** A chosen `socket_id` names a socket that exists (stored, or open on this instance). */
export class OutboundSocketInUseError extends Error {
  constructor(socketId: string) {
    super(`socket_id ${socketId} is in use`);
    this.name = 'OutboundSocketInUseError';
  }
}

export class OutboundSocketNotFoundError extends Error {
  constructor(socketId: string) {
    super(`no outbound socket ${socketId}`);
    this.name = 'OutboundSocketNotFoundError';
  }
}

export class TooManyOutboundSocketsError extends Error {
  constructor() {
    super(`at most ${MAX_OUTBOUND_SOCKETS} outbound sockets may exist; delete one first`);
    this.name = 'TooManyOutboundSocketsError';
  }
}

/** The instance is stopping: it opens no new outbound socket. */
export class OutboundSocketsStoppingError extends Error {
  constructor() {
    super('this instance is stopping; try again on another');
    this.name = 'OutboundSocketsStoppingError';
  }
}
