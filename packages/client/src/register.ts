import { PushGatewayError, retryAfter } from './errors.js';

export interface RegisterOptions {
  /** The gateway's HTTP base URL (`http://127.0.0.1:3000`); a `ws://` URL or one ending in `/ws/publish` is taken too. */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Chooses the groups the client's consumers join by default (stored by the gateway); absent: the earlier choice stays. */
  readonly groups?: readonly string[];
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

export interface Registration {
  /** The consumer token. Registering again rotates it: the previous token stops working. */
  readonly token: string;
  /** When the token expires, if the gateway says. */
  readonly expiresAt?: Date;
}

/** The gateway's HTTP base URL from any URL of it. */
export function httpBase(url: string): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === 'wss:' ? 'https:' : parsed.protocol === 'ws:' ? 'http:' : parsed.protocol;
  parsed.pathname = parsed.pathname.replace(/\/ws\/publish\/?$/, '').replace(/\/$/, '');
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString().replace(/\/$/, '');
}

/**
 * Exchanges the client's credentials for a consumer token (`POST /consumers`). Rejects with a
 * PushGatewayError of kind `registration` carrying the status: 401 wrong credentials, 403 a group not
 * granted, 429 too many attempts (`retryAfterSeconds`).
 */
export async function register(options: RegisterOptions): Promise<Registration> {
  const headers: Record<string, string> = { client_id: options.clientId, client_secret: options.clientSecret };
  let body: string | undefined;
  if (options.groups !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify({ groups: options.groups });
  }
  let response: Response;
  try {
    response = await fetch(`${httpBase(options.baseUrl)}/consumers`, { method: 'POST', headers, body, signal: options.signal });
  } catch (error) {
    throw new PushGatewayError('registration', `registration failed: ${(error as Error).message}`);
  }
  const text = await response.text();
  let answer: { token?: unknown; expires_at?: unknown; error?: unknown; message?: unknown } = {};
  try {
    answer = JSON.parse(text);
  } catch {
    // not JSON: reported below by status
  }
  if (response.status !== 201 || typeof answer.token !== 'string') {
    const message = typeof answer.message === 'string' ? answer.message : text.slice(0, 200) || response.statusText;
    throw new PushGatewayError(
      'registration',
      `registration refused with ${response.status}: ${message}`,
      response.status,
      typeof answer.error === 'string' ? answer.error : undefined,
      retryAfter(response.headers.get('retry-after')),
    );
  }
  return { token: answer.token, ...(typeof answer.expires_at === 'string' ? { expiresAt: new Date(answer.expires_at) } : {}) };
}
