import { errorCode } from '../http/api-error.js';

/** A handshake answered with a plain HTTP error instead of an upgrade; its `code` is the status's name (`too_many_requests`). */
export class HandshakeRefusedError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: HandshakeRefusedError['status'], message: string, headers: Readonly<Record<string, string>> = {}) {
    // a refusal is an answer, not a fault: no stack trace is read, so none is captured (a flood makes thousands a second)
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'HandshakeRefusedError';
    this.status = status;
    this.code = errorCode(status);
    this.headers = headers;
  }
}
