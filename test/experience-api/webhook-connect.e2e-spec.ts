import { createConsumer, startExperienceApi, type Consumer, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { recordAlerts } from '../support/mail/recorded-alerts.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { type Answer, verifyWebhook, WebhookReceiver } from '../support/net/webhook-receiver.js';

const SECRET = 'e2e-connect-secret-0123456789';

/** The connect handler: a real HTTP service asked during each handshake, before the upgrade completes. */
describe('connect handler (WEBHOOK_CONNECT_URL)', () => {
  let handler: WebhookReceiver;
  /** WEBHOOK_CONNECT_FAILURE=deny (the default) and =allow. */
  let deny: RunningExperienceApi;
  let allow: RunningExperienceApi;
  /** How the handler answers each client. */
  const answers = new Map<string, Answer>();
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    handler = await WebhookReceiver.start();
    handler.answer = (call) => answers.get(call.json.data?.client_id) ?? { status: 200 };
    const env = { WEBHOOK_CONNECT_URL: `${handler.url}/connect`, WEBHOOK_SECRET: SECRET, WEBHOOK_CONNECT_TIMEOUT: '300ms' };
    [deny, allow] = await Promise.all([startExperienceApi(env), startExperienceApi({ ...env, WEBHOOK_CONNECT_FAILURE: 'allow' })]);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
  });
  afterAll(async () => {
    await Promise.all([deny.close(), allow.close()]);
    await handler.close();
  });

  async function open(api: RunningExperienceApi, consumer: Consumer, groups?: string): Promise<TestSocket> {
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, {
      headers: { ...consumerHeaders(consumer.clientId, consumer.token), ...(groups ? { groups } : {}) },
    });
    sockets.push(socket);
    return socket;
  }

  const callsFor = (consumer: Consumer) => handler.on('/connect').filter((call) => call.json.data?.client_id === consumer.clientId);

  it("refuses the handshake with 403 and the handler's reason when the handler vetoes, asked with a signed call", async () => {
    const consumer = await createConsumer(deny, { groups: ['eu', 'us'] });
    answers.set(consumer.clientId, { status: 403, body: { reason: 'account suspended' } });

    const refusal = await TestSocket.refusal(`${deny.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(consumer.clientId, consumer.token), groups: 'eu' } });

    expect(refusal.status).toBe(403);
    expect(refusal.body).toEqual({ error: 'forbidden', message: 'account suspended' });
    const [call] = callsFor(consumer);
    expect(verifyWebhook(SECRET, call)).toBe(true);
    expect(call.headers).toMatchObject({ 'webhook-event': 'connect', 'webhook-id': call.json.id });
    expect(call.json).toEqual({
      event: 'connect',
      id: expect.any(String),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        socket_id: expect.any(String),
        path: '/ws/publish',
        client_id: consumer.clientId,
        remote_address: '127.0.0.1',
        requested_groups: ['eu'],
        groups: ['eu'],
      },
    });

    // a veto holds nothing: once the handler says yes, the same client connects
    answers.set(consumer.clientId, { status: 200 });
    const socket = await open(deny, consumer);
    expect((await socket.next()).groups).toEqual(['eu', 'us']);
  });

  it('puts the consumer in the groups the handler sets, which its welcome carries and its deliveries follow', async () => {
    const consumer = await createConsumer(deny, { groups: ['eu', 'tenant-a/*'] });
    answers.set(consumer.clientId, { status: 200, body: { groups: ['tenant-a/orders'] } });

    const socket = await open(deny, consumer, 'eu');

    const welcome = await socket.next();
    expect(welcome).toMatchObject({ type: 'welcome', client_id: consumer.clientId, groups: ['tenant-a/orders'] });
    expect(callsFor(consumer)[0].json.data.socket_id).toBe(welcome.socket_id);
    await deny.http
      .post('/entity')
      .send({ groups: ['eu'], data: 'not for it any more' })
      .expect(202);
    const published = await deny.http
      .post('/entity')
      .send({ groups: ['tenant-a/orders'], data: 'for it' })
      .expect(202);
    expect((await socket.next()).id).toBe(published.body.id);
  });

  it('refuses with 403 a group the handler sets outside the grants', async () => {
    const consumer = await createConsumer(deny, { groups: ['eu'] });
    answers.set(consumer.clientId, { status: 200, body: { groups: ['eu', 'tenant-b/orders'] } });

    const refusal = await TestSocket.refusal(`${deny.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });

    expect(refusal.status).toBe(403);
    expect(refusal.body.message).toBe(`the connect handler set group "tenant-b/orders", which is not granted to client "${consumer.clientId}"`);
  });

  it('refuses with 503 and Retry-After when the handler does not answer in time under deny, and alerts', async () => {
    const alerts = recordAlerts(deny);
    const consumer = await createConsumer(deny);
    answers.set(consumer.clientId, 'hold');

    const refusal = await TestSocket.refusal(`${deny.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });

    expect(refusal.status).toBe(503);
    expect(refusal.headers['retry-after']).toBe('5');
    expect(refusal.body).toEqual({ error: 'service_unavailable', message: 'the connect handler is unavailable; try again shortly' });
    expect(alerts).toContainEqual({
      kind: 'webhook_connect_failing',
      severity: 'error',
      subject: 'connect handler failing',
      details: { failure: 'no answer within 300 ms', policy: 'deny', client_id: consumer.clientId, url: `${handler.url}/connect` },
    });
  });

  it('admits the consumer as if the handler said yes when it does not answer in time under allow', async () => {
    const consumer = await createConsumer(allow, { groups: ['eu', 'us'] });
    answers.set(consumer.clientId, 'hold');

    const socket = await open(allow, consumer, 'us');

    expect(await socket.next()).toMatchObject({ type: 'welcome', groups: ['us'] });
    expect(callsFor(consumer)).toHaveLength(1);
  });
});
