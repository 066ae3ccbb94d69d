import { STATUS_CODES } from 'node:http';

/** The body of every error answer, HTTP or handshake: `{"error": <code>, "message": <text>}`. */
export interface ApiErrorBody {
  readonly error: string;
  readonly message: string;
  /** Anything else an error tells its caller (where to resume reading history, say). */
  readonly [field: string]: unknown;
}

/** `Payload Too Large` → `payload_too_large`. */
export function errorCode(status: number): string {
  return (STATUS_CODES[status] ?? 'error')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}
