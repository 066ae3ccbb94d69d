import { Registry } from 'prom-client';
import type { Alert, AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import type { ConnectHandlerSettings, ExperienceConfig } from '../config/experience.config.js';
import { ConnectGate, ConnectHandlerFailedError, type ConnectRequest, ConnectVetoedError } from '../socket-events/connect-gate.js';
import { ConnectWebhook } from './connect-webhook.js';
import { WebhookMetrics } from './webhook-metrics.js';
import { webhookSignature } from './webhook-signature.js';
import { type WebhookAnswer, WebhookTimeoutError, WebhookTransport } from './webhook-transport.js';

const SECRET = 'whsec-test-0123456789';
const SETTINGS: ConnectHandlerSettings = { url: new URL('https://auth.example.com/connect'), secret: SECRET, timeoutMs: 2_000, failure: 'deny' };
const REQUEST: ConnectRequest = { socketId: 's-1', path: '/ws/publish', clientId: 'acme', remoteAddress: '198.51.100.7', requestedGroups: [], groups: ['eu'] };

/** A connect handler answering the next scripted answer (or failing with it). */
class FakeTransport extends WebhookTransport {
  readonly calls: Array<{ headers: Readonly<Record<string, string>>; body: string; timeoutMs: number }> = [];
  next: WebhookAnswer | Error = { status: 200, body: '' };

  async post(_url: URL, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<WebhookAnswer> {
    this.calls.push({ headers, body, timeoutMs });
    if (this.next instanceof Error) throw this.next;
    return this.next;
  }
}

describe(ConnectWebhook.name, () => {
  let transport: FakeTransport;
  let gate: ConnectGate;
  let raised: Alert[];
  let resolved: string[];

  /** null: WEBHOOK_CONNECT_URL unset. */
  function handler(settings: Partial<ConnectHandlerSettings> | null = {}): ConnectWebhook {
    const sut = new ConnectWebhook(
      { connectHandler: settings ? { ...SETTINGS, ...settings } : undefined } as unknown as ExperienceConfig,
      gate,
      transport,
      new ManualClock(1_700_000_000_000),
      { raise: (alert: Alert) => raised.push(alert), resolve: (kind: string) => resolved.push(kind) } as unknown as AlertService,
      new WebhookMetrics(new Registry()),
    );
    sut.onModuleInit();
    return sut;
  }

  beforeEach(() => {
    transport = new FakeTransport();
    gate = new ConnectGate();
    raised = [];
    resolved = [];
  });

  it('installs itself in the handshake only when WEBHOOK_CONNECT_URL is set', () => {
    handler(null);
    expect(gate.active).toBe(false);
    handler();
    expect(gate.active).toBe(true);
  });

  it('asks with a signed call within its timeout and admits on a 2xx, with the groups the body names if any', async () => {
    const sut = handler();

    await expect(sut.decide(REQUEST)).resolves.toEqual({});
    transport.next = { status: 200, body: '{"groups":["eu","us","eu"]}' };
    await expect(sut.decide(REQUEST)).resolves.toEqual({ groups: ['eu', 'us'] });
    transport.next = { status: 204, body: '' };
    await expect(sut.decide(REQUEST)).resolves.toEqual({});

    const [call] = transport.calls;
    expect(call.timeoutMs).toBe(2_000);
    expect(call.headers).toMatchObject({ 'Webhook-Event': 'connect', 'Webhook-Timestamp': '1700000000' });
    expect(call.headers['Webhook-Signature']).toBe(webhookSignature(SECRET, '1700000000', call.body));
    expect(JSON.parse(call.body)).toEqual({
      event: 'connect',
      id: call.headers['Webhook-Id'],
      timestamp: '2023-11-14T22:13:20.000Z',
      data: { socket_id: 's-1', path: '/ws/publish', client_id: 'acme', remote_address: '198.51.100.7', requested_groups: [], groups: ['eu'] },
    });
  });

  it.each([
    [403, '{"reason":"account suspended"}', 'account suspended'],
    [401, 'no\u0000 entry\n', 'no entry'],
    [403, '', 'the connect handler refused the connection'],
    [403, `{"reason":"${'x'.repeat(300)}"}`, 'x'.repeat(200)],
  ])('vetoes on %s with the reason of the body %j', async (status, body, reason) => {
    transport.next = { status, body };

    const veto = await handler()
      .decide(REQUEST)
      .catch((error: unknown) => error);

    expect(veto).toBeInstanceOf(ConnectVetoedError);
    expect((veto as Error).message).toBe(reason);
    expect(raised).toEqual([]);
  });

  it.each([
    ['no answer in time', new WebhookTimeoutError(2_000), 'no answer within 2000 ms'],
    ['a 500', { status: 500, body: '' }, 'answered 500'],
    ['a redirect', { status: 302, body: '' }, 'answered 302'],
    ['a body that is not JSON', { status: 200, body: 'ok' }, 'answered 2xx with a body that is not {"groups": [names]}'],
    ['groups that are not names', { status: 200, body: '{"groups":"eu"}' }, 'answered 2xx with a body that is not {"groups": [names]}'],
  ])('counts %s as a failure: 503 under deny, a yes under allow; alerted, then resolved when it answers', async (_, answer, failure) => {
    transport.next = answer;
    const denying = handler();

    const refusal = await denying.decide(REQUEST).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConnectHandlerFailedError);
    expect(refusal).toMatchObject({ retryAfterSeconds: 5 });
    gate = new ConnectGate();
    await expect(handler({ failure: 'allow' }).decide(REQUEST)).resolves.toEqual({});

    expect(raised).toEqual([
      {
        kind: 'webhook_connect_failing',
        severity: 'error',
        subject: 'connect handler failing',
        details: { failure, policy: 'deny', client_id: 'acme', url: 'https://auth.example.com/connect' },
      },
      expect.objectContaining({ kind: 'webhook_connect_failing', details: expect.objectContaining({ policy: 'allow' }) }),
    ]);
    transport.next = { status: 200, body: '' };
    await denying.decide(REQUEST);
    expect(resolved).toEqual(['webhook_connect_failing']);
  });
});
