import { ADMIN_TOKEN, createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

describe('a consumer registers, connects and receives entities', () => {
  let api: RunningExperienceApi;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
  });
  afterAll(async () => {
    await api.close();
  });

  async function connect(clientId: string, token: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(clientId, token), ...headers } });
    sockets.push(socket);
    return socket;
  }

  it('welcomes a consumer that connects with client_id and Bearer headers, then pushes every entity', async () => {
    const consumer = await createConsumer(api);
    const socket = await connect(consumer.clientId, consumer.token);

    const welcome = await socket.next();
    expect(welcome).toEqual({
      type: 'welcome',
      socket_id: expect.any(String),
      client_id: consumer.clientId,
      groups: [],
      last_seq: expect.any(Number),
      epoch: expect.any(String),
    });

    const first = await api.http
      .post('/entity')
      .send({ data: { order: 1, lines: ['a', 'b'] } })
      .expect(202);
    const second = await api.http
      .post('/entity')
      .send({ id: `order-${consumer.clientId}`, data: 'plain text' })
      .expect(202);
    expect(second.body).toEqual({ id: `order-${consumer.clientId}`, seq: expect.any(Number) });
    expect(second.body.seq).toBeGreaterThan(first.body.seq);

    const a = await socket.next();
    const b = await socket.next();
    expect(a).toEqual({
      type: 'entity',
      id: first.body.id,
      seq: first.body.seq,
      groups: [],
      data: { order: 1, lines: ['a', 'b'] },
      published_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(b).toMatchObject({ type: 'entity', id: `order-${consumer.clientId}`, seq: second.body.seq, data: 'plain text' });
  });

  it('delivers an entity to every connected consumer at once', async () => {
    const consumers = await Promise.all([1, 2, 3].map(() => createConsumer(api)));
    const connected = await Promise.all(consumers.map((c) => connect(c.clientId, c.token)));
    await Promise.all(connected.map((socket) => socket.next()));

    const published = await api.http
      .post('/entity')
      .send({ data: { broadcast: true } })
      .expect(202);

    const received = await Promise.all(connected.map((socket) => socket.next()));
    for (const frame of received) expect(frame).toMatchObject({ id: published.body.id, data: { broadcast: true } });
  });

  it('sends an entity with groups only to sockets in any of those groups', async () => {
    const [eu, us, both, none] = await Promise.all([
      createConsumer(api, { groups: ['eu'] }),
      createConsumer(api, { groups: ['eu', 'us'] }),
      createConsumer(api, { groups: ['eu', 'us', 'audit'] }),
      createConsumer(api),
    ]);
    const euSocket = await connect(eu.clientId, eu.token);
    const usSocket = await connect(us.clientId, us.token, { groups: 'us' });
    const bothSocket = await connect(both.clientId, both.token, { groups: 'eu, us, audit' });
    const noneSocket = await connect(none.clientId, none.token);
    expect((await euSocket.next()).groups).toEqual(['eu']);
    expect((await usSocket.next()).groups).toEqual(['us']);
    expect((await bothSocket.next()).groups).toEqual(['eu', 'us', 'audit']);
    expect((await noneSocket.next()).groups).toEqual([]);

    const toUs = await api.http
      .post('/entity')
      .send({ groups: ['us'], data: 1 })
      .expect(202);
    const toEuOrUs = await api.http
      .post('/entity')
      .send({ groups: ['eu', 'us'], data: 2 })
      .expect(202);
    const toAll = await api.http.post('/entity').send({ data: 3 }).expect(202);

    expect((await euSocket.next()).id).toBe(toEuOrUs.body.id);
    expect((await euSocket.next()).id).toBe(toAll.body.id);
    expect((await usSocket.next()).id).toBe(toUs.body.id);
    expect((await usSocket.next()).id).toBe(toEuOrUs.body.id);
    expect((await usSocket.next()).id).toBe(toAll.body.id);
    expect((await bothSocket.next()).id).toBe(toUs.body.id);
    const once = await bothSocket.next();
    expect(once).toMatchObject({ id: toEuOrUs.body.id, groups: ['eu', 'us'] });
    expect((await bothSocket.next()).id).toBe(toAll.body.id);
    expect(await noneSocket.next()).toMatchObject({ id: toAll.body.id, groups: [] });
    expect(noneSocket.pending + euSocket.pending + usSocket.pending + bothSocket.pending).toBe(0);
  });

  it('lets registration choose default groups among the grants, and a handshake name its own, also as a query parameter', async () => {
    const consumer = await createConsumer(api, { groups: ['alerts', 'night'] });
    const registered = await api.http
      .post('/consumers')
      .set('client_id', consumer.clientId)
      .set('client_secret', consumer.clientSecret)
      .send({ groups: ['alerts'] })
      .expect(201);

    const byDefault = await connect(consumer.clientId, registered.body.token);
    expect((await byDefault.next()).groups).toEqual(['alerts']);
    await byDefault.close();
    const named = await TestSocket.open(`${api.wsUrl}/ws/publish?groups=night`, { headers: consumerHeaders(consumer.clientId, registered.body.token) });
    sockets.push(named);
    expect((await named.next()).groups).toEqual(['night']);
  });

  it('broadcasts an id once: the same id again answers 200 duplicate with the first seq', async () => {
    const consumer = await createConsumer(api);
    const socket = await connect(consumer.clientId, consumer.token);
    await socket.next();
    const id = `idempotent-${consumer.clientId}`;

    const first = await api.http
      .post('/entity')
      .send({ id, data: { v: 1 } })
      .expect(202);
    const again = await api.http
      .post('/entity')
      .send({ id, data: { v: 2 } })
      .expect(200);
    expect(again.body).toEqual({ id, seq: first.body.seq, duplicate: true });

    const marker = await api.http.post('/entity').send({ data: 'marker' }).expect(202);
    expect((await socket.next()).data).toEqual({ v: 1 });
    expect((await socket.next()).id).toBe(marker.body.id);
  });

  it('accepts the browser form: subprotocols push.v1, bearer.<token>, client_id.<id>, selecting only push.v1', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, {
      protocols: ['push.v1', `bearer.${consumer.token}`, `client_id.${consumer.clientId}`],
    });
    sockets.push(socket);
    expect(socket.socket.protocol).toBe('push.v1');
    expect((await socket.next()).client_id).toBe(consumer.clientId);
  });

  it('lets a consumer reconnect at once after it closed', async () => {
    const consumer = await createConsumer(api);
    const socket = await connect(consumer.clientId, consumer.token);
    await socket.next();
    await socket.close();

    const again = await connect(consumer.clientId, consumer.token);
    expect((await again.next()).type).toBe('welcome');
  });

  it('closes the socket of a deleted client and refuses its token from then on', async () => {
    const consumer = await createConsumer(api);
    const socket = await connect(consumer.clientId, consumer.token);
    await socket.next();

    await api.http.delete(`/admin/clients/${consumer.clientId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(204);

    expect((await socket.closed).code).toBe(1008);
    const refusal = await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect(refusal.status).toBe(401);
  });

  it('reports health and Prometheus metrics', async () => {
    await api.http.get('/health').expect(200, { status: 'ok', checks: { database: { status: 'up' } } });
    const metrics = await api.http.get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^push_gateway_entities_published_total \d+/m);
    expect(metrics.text).toMatch(/^push_gateway_handshakes_total\{outcome="accepted"\} \d+/m);
  });
});
