import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock, readBoundedBody } from '@app/platform';

/** What a webhook answered; the body only as far as MAX_ANSWER_BYTES. */
export interface WebhookAnswer {
  readonly status: number;
  readonly body: string;
}

/** The most of an answer's body that is read: a connect handler's groups fit in far less. */
export const MAX_ANSWER_BYTES = 16_384;

/** The webhook did not answer in time. */
export class WebhookTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'WebhookTimeoutError';
  }
}

/** The webhook could not be reached: refused, reset, a name that does not resolve. */
export class WebhookUnreachableError extends Error {
  constructor(cause: string) {
    super(`unreachable (${cause})`);
    this.name = 'WebhookUnreachableError';
  }
}

/** Posts a webhook call; the outside connection of `webhooks/`, faked in specs. */
export abstract class WebhookTransport {
  /** Resolves with any answer, whatever its status; throws WebhookTimeoutError or WebhookUnreachableError. */
  abstract post(url: URL, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<WebhookAnswer>;
}

/** Over fetch; redirects are answers, not followed (a signed call is for the URL configured). */
@Injectable()
export class FetchWebhookTransport extends WebhookTransport {
  constructor(@Inject(CLOCK) private readonly clock: Clock) {
    super();
  }

  async post(url: URL, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<WebhookAnswer> {
    const { target, authorization } = withoutCredentials(url);
    const abort = new AbortController();
    const timer = this.clock.setTimer(() => abort.abort(), timeoutMs);
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: authorization ? { ...headers, Authorization: authorization } : headers,
        body,
        redirect: 'manual',
        signal: abort.signal,
      });
      return { status: response.status, body: (await readBoundedBody(response, MAX_ANSWER_BYTES)).text };
    } catch (error) {
      if (abort.signal.aborted) throw new WebhookTimeoutError(timeoutMs);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new WebhookUnreachableError(cause?.code ?? cause?.message ?? (error as Error).message);
    } finally {
      this.clock.clearTimer(timer);
    }
  }
}

/** fetch refuses a URL with credentials (and would quote it, password and all, in its error): they go as Basic auth. */
function withoutCredentials(url: URL): { target: URL; authorization?: string } {
  if (url.username === '' && url.password === '') return { target: url };
  const target = new URL(url);
  target.username = '';
  target.password = '';
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { target, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** A webhook's URL as logs and alerts show it: no credentials, no query (either may carry a token). */
export function describe(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
