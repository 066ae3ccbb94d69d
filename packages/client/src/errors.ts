/** What went wrong: a refused handshake or registration, an error frame, or the network. */
export type PushGatewayErrorKind = 'refused' | 'registration' | 'frame' | 'socket';

/** An error the SDK reports through `onError`, or rejects `register()` with. */
export class PushGatewayError extends Error {
  override readonly name = 'PushGatewayError';

  constructor(
    readonly kind: PushGatewayErrorKind,
    message: string,
    /** The HTTP status of a refusal (`refused`, `registration`). */
    readonly status?: number,
    /** The `error` of a refusal's body, or the `code` of an error frame. */
    readonly code?: string,
    /** Seconds the gateway asked to wait (`Retry-After` of a 429 or 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** `Retry-After` in seconds, when it is a number. */
export function retryAfter(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
