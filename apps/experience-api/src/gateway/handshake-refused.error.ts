/** A handshake answered with a plain HTTP error instead of an upgrade. */
export class HandshakeRefusedError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 429 | 500 | 503,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HandshakeRefusedError';
  }
}
