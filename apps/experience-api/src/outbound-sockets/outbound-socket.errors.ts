import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { errorCode } from '../http/api-error.js';
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

/** The outbound sockets' errors and their statuses, in the form of `API_ERROR_STATUSES`, which may take them in. */
export const OUTBOUND_SOCKET_ERROR_STATUSES = [
  [OutboundSocketInUseError, HttpStatus.CONFLICT],
  [OutboundSocketNotFoundError, HttpStatus.NOT_FOUND],
  [TooManyOutboundSocketsError, HttpStatus.CONFLICT],
  [OutboundSocketsStoppingError, HttpStatus.SERVICE_UNAVAILABLE],
] as const;

/**
 * Answers the outbound sockets' errors with their statuses in the app's error
 * format; every other error goes on to the app's filter.
 */
@Catch(OutboundSocketInUseError, OutboundSocketNotFoundError, TooManyOutboundSocketsError, OutboundSocketsStoppingError)
export class OutboundSocketErrorFilter implements ExceptionFilter {
  catch(exception: Error, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const status = OUTBOUND_SOCKET_ERROR_STATUSES.find(([type]) => exception instanceof type)?.[1] ?? HttpStatus.INTERNAL_SERVER_ERROR;
    if (response.headersSent) return;
    response.status(status).json({ error: errorCode(status), message: exception.message });
  }
}
