import { EventEmitter2 } from '@nestjs/event-emitter';
import { Registry } from 'prom-client';
import type { Alert, AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import type { ExperienceConfig, WebhookSettings } from '../config/experience.config.js';
import { SocketEvent } from '../socket-events/socket-events.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookMetrics } from './webhook-metrics.js';
import { webhookSignature } from './webhook-signature.js';
import { type WebhookAnswer, WebhookTimeoutError, WebhookTransport } from './webhook-transport.js';

const SECRET = 'whsec-test-0123456789';
const SETTINGS: WebhookSettings = {
  url: new URL('https://hooks.example.com/push?token=abc'),
  events: ['connected', 'disconnected', 'entity_published'],
  secret: SECRET,
  timeoutMs: 5_000,
  retries: 2,
  retryInitialDelayMs: 1_000,
  retryMaxDelayMs: 60_000,
  queueLimit: 100,
  concurrency: 1,
};

interface Call {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly at: number;
}

/** A webhook that answers what the test scripts (200 once the script runs out), or holds the call until released. */
class FakeTransport extends WebhookTransport {
  readonly calls: Call[] = [];
  readonly script: Array<number | Error | 'hold'> = [];
  readonly held: Array<(answer: WebhookAnswer) => void> = [];

  constructor(private readonly clock: ManualClock) {
    super();
  }

  post(url: URL, headers: Readonly<Record<string, string>>, body: string): Promise<WebhookAnswer> {
    this.calls.push({ url, headers, body, at: this.clock.now() });
    const next = this.script.shift() ?? 200;
    if (next === 'hold') return new Promise((resolve) => this.held.push(resolve));
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve({ status: next, body: '' });
  }

  get bodies(): Array<Record<string, any>> {
    return this.calls.map((call) => JSON.parse(call.body));
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

const CONNECTED = {
  socketId: 's-1',
  type: 'inbound',
  path: '/ws/publish',
  clientId: 'acme',
  remoteAddress: '198.51.100.7',
  groups: ['eu'],
  connectedAt: '2023-11-14T22:13:20.000Z',
} as const;

describe(WebhookDispatcher.name, () => {
  let clock: ManualClock;
  let transport: FakeTransport;
  let emitter: EventEmitter2;
  let events: SocketEvents;
  let raised: Alert[];
  let resolved: string[];
  let registry: Registry;
  let sut: WebhookDispatcher;

  function start(settings: Partial<WebhookSettings> = {}): void {
    sut = new WebhookDispatcher(
      { webhooks: { ...SETTINGS, ...settings } } as unknown as ExperienceConfig,
      emitter,
      transport,
      clock,
      { raise: (alert: Alert) => raised.push(alert), resolve: (kind: string) => resolved.push(kind) } as unknown as AlertService,
      new WebhookMetrics(registry),
    );
    sut.onModuleInit();
  }

  beforeEach(() => {
    clock = new ManualClock(1_700_000_000_000);
    transport = new FakeTransport(clock);
    emitter = new EventEmitter2();
    events = new SocketEvents(emitter);
    raised = [];
    resolved = [];
    registry = new Registry();
  });

  afterEach(() => {
    sut.beforeApplicationShutdown();
  });

  async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return values.filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, string>)[k] === l)).reduce((sum, v) => sum + v.value, 0);
  }

  it('posts each subscribed trigger as signed JSON {event, id, timestamp, data}, and nothing else', async () => {
    start();

    events.emit(SocketEvent.CONNECTED, CONNECTED);
    events.emit(SocketEvent.INBOUND_MESSAGE, { ...CONNECTED, data: 'not subscribed', binary: false });
    events.emit(SocketEvent.ENTITY_PUBLISHED, { id: 'order-1', seq: 7, groups: undefined });
    await settle();

    expect(transport.bodies).toEqual([
      {
        event: 'connected',
        id: expect.any(String),
        timestamp: '2023-11-14T22:13:20.000Z',
        data: {
          socket_id: 's-1',
          type: 'inbound',
          path: '/ws/publish',
          client_id: 'acme',
          remote_address: '198.51.100.7',
          groups: ['eu'],
          connected_at: '2023-11-14T22:13:20.000Z',
        },
      },
      { event: 'entity_published', id: expect.any(String), timestamp: '2023-11-14T22:13:20.000Z', data: { id: 'order-1', seq: 7, groups: null } },
    ]);
    const [call] = transport.calls;
    expect(call.url.toString()).toBe('https://hooks.example.com/push?token=abc');
    expect(call.headers).toMatchObject({ 'Webhook-Id': transport.bodies[0].id, 'Webhook-Event': 'connected', 'Webhook-Timestamp': '1700000000' });
    expect(call.headers['Webhook-Signature']).toBe(webhookSignature(SECRET, '1700000000', call.body));
    expect(transport.bodies[0].id).not.toBe(transport.bodies[1].id);
    expect(await metric('push_gateway_webhook_deliveries_total', { outcome: 'delivered' })).toBe(2);
  });

  it('queues without waiting: the trigger returns before the webhook answers', () => {
    start();
    transport.script.push('hold');

    events.emit(SocketEvent.CONNECTED, CONNECTED);

    expect(transport.calls).toHaveLength(1);
    expect(transport.held).toHaveLength(1);
  });

  it('retries a failed delivery after growing waits on the clock, with the same id and body, each attempt signed at its time', async () => {
    start();
    transport.script.push(500, new WebhookTimeoutError(5_000));

    sut.enqueue('connected', { n: 1 });
    await settle();
    expect(transport.calls).toHaveLength(1);

    await clock.advance(10_000);

    expect(transport.calls).toHaveLength(3);
    // waits of 1 s, then 2 s, each spread over its upper half so that instances do not retry in step
    const [first, second, third] = transport.calls.map((call) => call.at);
    expect(second - first).toBeGreaterThanOrEqual(500);
    expect(second - first).toBeLessThanOrEqual(1_000);
    expect(third - second).toBeGreaterThanOrEqual(1_000);
    expect(third - second).toBeLessThanOrEqual(2_000);
    expect(new Set(transport.calls.map((call) => call.body)).size).toBe(1);
    expect(new Set(transport.calls.map((call) => call.headers['Webhook-Id'])).size).toBe(1);
    for (const call of transport.calls) {
      expect(call.headers['Webhook-Timestamp']).toBe(String(Math.floor(call.at / 1_000)));
      expect(call.headers['Webhook-Signature']).toBe(webhookSignature(SECRET, call.headers['Webhook-Timestamp'], call.body));
    }
    expect(await metric('push_gateway_webhook_failed_attempts_total')).toBe(2);
    expect(await metric('push_gateway_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    // failures that a retry made good are no one's concern
    expect(raised).toEqual([]);
  });

  it('gives a delivery up after WEBHOOK_RETRIES retries, alerts under one kind however often, and resolves when one succeeds', async () => {
    start();
    transport.script.push(503, 503, 503, 502, 502, 502);

    sut.enqueue('connected', { n: 1 });
    sut.enqueue('disconnected', { n: 2 });
    await settle();
    await clock.advance(10_000);

    expect(transport.calls).toHaveLength(6);
    expect(await metric('push_gateway_webhook_deliveries_total', { outcome: 'given_up' })).toBe(2);
    expect(raised).toHaveLength(2);
    expect(new Set(raised.map((alert) => alert.kind))).toEqual(new Set(['webhook_failing']));
    expect(raised[0]).toEqual({
      kind: 'webhook_failing',
      severity: 'error',
      subject: 'webhook deliveries failing',
      details: { reason: 'given_up', event: 'connected', last_failure: 'answered 503', url: 'https://hooks.example.com/push' },
    });
    expect(JSON.stringify(raised)).not.toContain(SECRET);
    expect(resolved).toEqual([]);

    sut.enqueue('connected', { n: 3 });
    sut.enqueue('connected', { n: 4 });
    await settle();

    expect(resolved).toEqual(['webhook_failing']);
  });

  it('holds WEBHOOK_QUEUE_LIMIT deliveries at most, in flight included, dropping the oldest waiting one and alerting', async () => {
    start({ queueLimit: 3 });
    transport.script.push('hold');

    for (let n = 1; n <= 5; n++) sut.enqueue('connected', { n });

    expect(sut.depth).toBe(3);
    expect(await metric('push_gateway_webhook_deliveries_total', { outcome: 'dropped' })).toBe(2);
    expect(await metric('push_gateway_webhook_queue_depth')).toBe(3);
    expect(raised.map((alert) => alert.details?.reason)).toEqual(['queue_full', 'queue_full']);
    transport.held[0]({ status: 204, body: '' });
    await settle();

    expect(transport.bodies.map((body) => body.data.n)).toEqual([1, 4, 5]);
    expect(sut.depth).toBe(0);
    expect(resolved).toEqual(['webhook_failing']);
  });

  it('posts up to WEBHOOK_CONCURRENCY deliveries at once', () => {
    start({ concurrency: 2 });
    transport.script.push('hold', 'hold', 'hold');

    for (let n = 1; n <= 3; n++) sut.enqueue('connected', { n });

    expect(transport.calls).toHaveLength(2);
    expect(sut.depth).toBe(3);
  });

  it('at shutdown stops listening and waiting out retries', async () => {
    start();
    transport.script.push(500);
    sut.enqueue('connected', { n: 1 });
    await settle();

    sut.beforeApplicationShutdown();
    await settle();
    events.emit(SocketEvent.CONNECTED, CONNECTED);
    await clock.advance(60_000);

    expect(transport.calls).toHaveLength(1);
    expect(clock.pending).toBe(0);
    expect(await metric('push_gateway_webhook_deliveries_total', { outcome: 'abandoned' })).toBe(1);
  });

  it('is idle without WEBHOOK_URL', async () => {
    sut = new WebhookDispatcher({} as ExperienceConfig, emitter, transport, clock, {} as AlertService, new WebhookMetrics(registry));
    sut.onModuleInit();

    events.emit(SocketEvent.CONNECTED, CONNECTED);
    sut.enqueue('connected', {});
    await settle();

    expect(transport.calls).toEqual([]);
    expect(emitter.listenerCount(SocketEvent.CONNECTED)).toBe(0);
  });
});
