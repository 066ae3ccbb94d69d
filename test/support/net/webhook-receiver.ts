import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCall {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as it arrived. */
  readonly body: string;
  readonly json: Record<string, any>;
  /** The status this receiver answered, once it has; undefined while it holds the call. */
  status?: number;
}

/** How the receiver answers a call: a status and a body, or 'hold' to never answer. */
export type Answer = { status: number; body?: unknown } | 'hold';

/**
 * A real HTTP server on a free port of 127.0.0.1, as a user's webhook would
 * be: records every call and answers it as `answer` says.
 */
export class WebhookReceiver {
  readonly calls: ReceivedCall[] = [];
  answer: (call: ReceivedCall) => Answer = () => ({ status: 204 });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => receiver!.receive(request.url ?? '/', request.headers, Buffer.concat(chunks).toString('utf8'), response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return receiver;
  }

  private receive(path: string, headers: IncomingHttpHeaders, body: string, response: ServerResponse): void {
    let json: Record<string, any> = {};
    try {
      json = JSON.parse(body);
    } catch {
      // recorded as is
    }
    const call: ReceivedCall = { path, headers, body, json };
    this.calls.push(call);
    const answer = this.answer(call);
    if (answer === 'hold') return;
    call.status = answer.status;
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    response.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(text);
  }

  on(path: string): ReceivedCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * Verifies a call as docs/webhooks.md tells a receiver to: the signature over
 * `<Webhook-Timestamp>.<raw body>`, compared in constant time, and a timestamp
 * no older than five minutes.
 */
export function verifyWebhook(secret: string, call: ReceivedCall, nowMs = Date.now()): boolean {
  const timestamp = call.headers['webhook-timestamp'];
  const signature = call.headers['webhook-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(nowMs / 1_000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${call.body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
