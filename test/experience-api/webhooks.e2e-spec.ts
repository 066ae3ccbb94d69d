import { AlertService } from '@app/alerting';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { recordAlerts } from '../support/mail/recorded-alerts.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { verifyWebhook, WebhookReceiver, type ReceivedCall } from '../support/net/webhook-receiver.js';
import { eventually } from '../support/time/eventually.js';

const SECRET = 'e2e-webhook-secret-0123456789';

/** Webhooks as a user's service outside the process sees them: a real HTTP server receiving signed calls. */
describe('webhooks', () => {
  let receiver: WebhookReceiver;
  let api: RunningExperienceApi;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    api = await startExperienceApi({
      WEBHOOK_URL: `${receiver.url}/events`,
      WEBHOOK_EVENTS: 'connected,disconnected,entity_published',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_INITIAL_DELAY: '100ms',
      WEBHOOK_RETRY_MAX_DELAY: '200ms',
      WEBHOOK_RETRIES: '3',
    });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
    receiver.answer = () => ({ status: 204 });
  });
  afterAll(async () => {
    await api.close();
    await receiver.close();
  });

  const of = (event: string, match: (call: ReceivedCall) => boolean) => receiver.on('/events').filter((call) => call.json.event === event && match(call));

  it('delivers an event exactly once to a receiver that fails twice, every attempt signed, the same delivery id throughout', async () => {
    const consumer = await createConsumer(api, { groups: ['eu'] });
    let failures = 0;
    receiver.answer = (call) => (call.json.event === 'connected' && failures++ < 2 ? { status: 500 } : { status: 204 });
    const alerts = recordAlerts(api);

    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    sockets.push(socket);
    const welcome = await socket.next();

    const connected = () => of('connected', (call) => call.json.data.socket_id === welcome.socket_id);
    await eventually(() => connected().some((call) => call.status === 204), 10_000, 20, 'the connected event delivered');
    const calls = connected();
    expect(calls.map((call) => call.status)).toEqual([500, 500, 204]);
    expect(new Set(calls.map((call) => call.headers['webhook-id'])).size).toBe(1);
    expect(new Set(calls.map((call) => call.json.id))).toEqual(new Set([calls[0].headers['webhook-id']]));
    for (const call of calls) {
      expect(verifyWebhook(SECRET, call)).toBe(true);
      expect(verifyWebhook('some-other-secret-0123456789', call)).toBe(false);
      // a replay of this call more than five minutes later is refused by the same check
      expect(verifyWebhook(SECRET, call, Date.now() + 301_000)).toBe(false);
    }
    expect(calls[2].headers).toMatchObject({ 'content-type': 'application/json', 'webhook-event': 'connected' });
    expect(calls[2].json).toEqual({
      event: 'connected',
      id: calls[0].headers['webhook-id'],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        socket_id: welcome.socket_id,
        type: 'inbound',
        path: '/ws/publish',
        client_id: consumer.clientId,
        remote_address: '127.0.0.1',
        groups: ['eu'],
        connected_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });

    // the events after it go through, and the delivered one never comes again
    const published = await api.http
      .post('/entity')
      .send({ groups: ['eu'], data: 1 })
      .expect(202);
    await socket.next();
    socket.socket.close(4000, 'bye');
    await eventually(
      () => of('disconnected', (call) => call.json.data.socket_id === welcome.socket_id && call.status === 204).length === 1,
      10_000,
      20,
      'disconnected',
    );
    expect(of('entity_published', (call) => call.json.data.id === published.body.id).map((call) => call.json.data)).toEqual([
      { id: published.body.id, seq: published.body.seq, groups: ['eu'] },
    ]);
    expect(of('disconnected', (call) => call.json.data.socket_id === welcome.socket_id)[0].json.data).toMatchObject({ code: 4000, reason: 'bye' });
    expect(connected()).toHaveLength(3);
    // failures a retry made good alert no one
    expect(alerts.filter((alert) => alert.kind === 'webhook_failing')).toEqual([]);
  });

  it('alerts once a receiver keeps failing, and resolves when it takes deliveries again', async () => {
    const alerts = recordAlerts(api);
    receiver.answer = () => ({ status: 503 });

    const first = await api.http.post('/entity').send({ data: 'lost' }).expect(202);

    await eventually(() => alerts.some((alert) => alert.kind === 'webhook_failing'), 10_000, 20, 'the alert');
    expect(of('entity_published', (call) => call.json.data.id === first.body.id)).toHaveLength(4);
    expect(alerts.filter((alert) => alert.kind === 'webhook_failing')).toEqual([
      {
        kind: 'webhook_failing',
        severity: 'error',
        subject: 'webhook deliveries failing',
        details: { reason: 'given_up', event: 'entity_published', last_failure: 'answered 503', url: `${receiver.url}/events` },
      },
    ]);

    receiver.answer = () => ({ status: 204 });
    const resolved = recordResolves(api);
    const second = await api.http.post('/entity').send({ data: 'delivered' }).expect(202);
    await eventually(() => of('entity_published', (call) => call.json.data.id === second.body.id && call.status === 204).length === 1, 10_000, 20, 'delivered');
    await eventually(() => resolved.includes('webhook_failing'), 5_000, 20, 'resolved');
  });
});

/** The alert kinds the app resolves from now on. */
function recordResolves(api: RunningExperienceApi): string[] {
  const alerts = api.app.get(AlertService);
  const resolved: string[] = [];
  const resolve = alerts.resolve.bind(alerts);
  alerts.resolve = (kind: string, subject: string) => {
    resolved.push(kind);
    resolve(kind, subject);
  };
  return resolved;
}
