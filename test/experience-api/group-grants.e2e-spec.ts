import { ADMIN_TOKEN, createConsumer, startExperienceApi, type Consumer, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { recordAlerts } from '../support/mail/recorded-alerts.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

/**
 * A client's groups are its grants. Each way a consumer can name a group is
 * tried as an attacker from tenant B would, to reach tenant A's entities.
 */
describe('groups are permissions', () => {
  let api: RunningExperienceApi;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
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

  async function open(url: string, options: Parameters<typeof TestSocket.open>[1]): Promise<TestSocket> {
    const socket = await TestSocket.open(url, options);
    sockets.push(socket);
    return socket;
  }

  /** Tenant A's consumer and an attacker of tenant B, both connected on their defaults. */
  async function tenants(): Promise<{ a: Consumer; b: Consumer; aSocket: TestSocket }> {
    const [a, b] = await Promise.all([createConsumer(api, { groups: ['tenant-a/orders'] }), createConsumer(api, { groups: ['tenant-b/orders'] })]);
    const aSocket = await open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(a.clientId, a.token) });
    expect((await aSocket.next()).groups).toEqual(['tenant-a/orders']);
    return { a, b, aSocket };
  }

  /** Publishes to tenant A, then to everyone: a socket that gets the marker first never got tenant A's entity. */
  async function publishToTenantA(): Promise<{ secret: string; marker: string }> {
    const secret = await api.http
      .post('/entity')
      .send({ groups: ['tenant-a/orders'], data: 'tenant A only' })
      .expect(202);
    const marker = await api.http.post('/entity').send({ data: 'marker' }).expect(202);
    return { secret: secret.body.id, marker: marker.body.id };
  }

  it.each([
    [
      'the groups handshake header',
      (b: Consumer) => ({ url: '/ws/publish', options: { headers: { ...consumerHeaders(b.clientId, b.token), groups: 'tenant-a/orders' } } }),
    ],
    ['the groups query', (b: Consumer) => ({ url: '/ws/publish?groups=tenant-a/orders', options: { headers: consumerHeaders(b.clientId, b.token) } })],
    [
      'the groups query with the browser subprotocols',
      (b: Consumer) => ({
        url: '/ws/publish?groups=tenant-b/orders,tenant-a/orders',
        options: { protocols: ['push.v1', `bearer.${b.token}`, `client_id.${b.clientId}`] },
      }),
    ],
  ])('refuses a group outside the grants named in %s with 403, before the upgrade', async (_way, attempt) => {
    const { b, aSocket } = await tenants();
    const { url, options } = attempt(b);

    const refusal = await TestSocket.refusal(`${api.wsUrl}${url}`, options);

    expect(refusal.status).toBe(403);
    expect(refusal.body).toEqual({ error: 'forbidden', message: `group "tenant-a/orders" is not granted to client "${b.clientId}"` });
    const { secret } = await publishToTenantA();
    expect((await aSocket.next()).id).toBe(secret);
  });

  it('tells DevOps which client asked for a group outside its grants, from where', async () => {
    const alerts = recordAlerts(api);
    const { b } = await tenants();

    await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(b.clientId, b.token), groups: 'tenant-a/orders' } });

    expect(alerts).toContainEqual({
      kind: 'handshake_refused',
      severity: 'warning',
      subject: 'refused handshakes',
      details: { reason: 'forbidden', client_id: b.clientId, remote_address: '127.0.0.1' },
    });
  });

  it('refuses default groups outside the grants at registration with 403 and issues no token', async () => {
    const { b } = await tenants();

    const answer = await api.http
      .post('/consumers')
      .set('client_id', b.clientId)
      .set('client_secret', b.clientSecret)
      .send({ groups: ['tenant-b/orders', 'tenant-a/orders'] })
      .expect(403);

    expect(answer.body).toEqual({ error: 'forbidden', message: `group "tenant-a/orders" is not granted to client "${b.clientId}"` });
    // the token issued before is still the valid one, and still joins only tenant B
    const socket = await open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(b.clientId, b.token) });
    expect((await socket.next()).groups).toEqual(['tenant-b/orders']);
    const { marker } = await publishToTenantA();
    expect((await socket.next()).id).toBe(marker);
  });

  it('lets a prefix grant cover every group under it, and nothing beside it', async () => {
    const consumer = await createConsumer(api, { groups: ['tenant-c/*'] });
    const headers = consumerHeaders(consumer.clientId, consumer.token);

    const beside = await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: { ...headers, groups: 'tenant-c/eu, tenant-cx/eu' } });
    expect(beside.status).toBe(403);
    expect(beside.body.message).toContain('"tenant-cx/eu"');
    const socket = await open(`${api.wsUrl}/ws/publish`, { headers: { ...headers, groups: 'tenant-c/eu, tenant-c/us/west' } });

    expect((await socket.next()).groups).toEqual(['tenant-c/eu', 'tenant-c/us/west']);
    const published = await api.http
      .post('/entity')
      .send({ groups: ['tenant-c/us/west'], data: 1 })
      .expect(202);
    expect((await socket.next()).id).toBe(published.body.id);
  });

  it('joins the plain grants by default, never a prefix, and gives a client without grants only entities without groups', async () => {
    const [granted, ungranted] = await Promise.all([createConsumer(api, { groups: ['news', 'tenant-d/*'] }), createConsumer(api)]);
    const grantedSocket = await open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(granted.clientId, granted.token) });
    const ungrantedSocket = await open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(ungranted.clientId, ungranted.token) });
    expect((await grantedSocket.next()).groups).toEqual(['news']);
    expect((await ungrantedSocket.next()).groups).toEqual([]);

    const news = await api.http
      .post('/entity')
      .send({ groups: ['news'], data: 'news' })
      .expect(202);
    const all = await api.http.post('/entity').send({ data: 'all' }).expect(202);

    expect([(await grantedSocket.next()).id, (await grantedSocket.next()).id]).toEqual([news.body.id, all.body.id]);
    expect((await ungrantedSocket.next()).id).toBe(all.body.id);
  });

  it('joins exactly the groups a handshake names, so a socket never ends with more than 100', async () => {
    const plain = Array.from({ length: 99 }, (_, i) => `plain-${i}`);
    const consumer = await createConsumer(api, { groups: [...plain, 'many/*'] });
    const named = Array.from({ length: 100 }, (_, i) => `many/${i}`);

    const socket = await open(`${api.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(consumer.clientId, consumer.token), groups: named.join(',') } });

    expect((await socket.next()).groups).toEqual(named);
    await socket.close();
    const tooMany = await TestSocket.refusal(`${api.wsUrl}/ws/publish`, {
      headers: { ...consumerHeaders(consumer.clientId, consumer.token), groups: [...named, 'many/100'].join(',') },
    });
    expect(tooMany.status).toBe(400);
  });

  it('takes a group off a live socket at once when the grants narrow, and keeps the socket open', async () => {
    const consumer = await createConsumer(api, { groups: ['eu', 'us'] });
    const socket = await open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect((await socket.next()).groups).toEqual(['eu', 'us']);

    const narrowed = await api.http
      .patch(`/admin/clients/${consumer.clientId}`)
      .set(admin)
      .send({ groups: ['eu'] })
      .expect(200);
    expect(narrowed.body).toMatchObject({ client_id: consumer.clientId, groups: ['eu'] });

    const toUs = await api.http
      .post('/entity')
      .send({ groups: ['us'], data: 'us' })
      .expect(202);
    const toEu = await api.http
      .post('/entity')
      .send({ groups: ['eu'], data: 'eu' })
      .expect(202);
    // published first, the entity for the revoked group would arrive first
    expect(toUs.status).toBe(202);
    expect((await socket.next()).id).toBe(toEu.body.id);
    // the next handshake sees the new grants too
    await socket.close();
    const refusal = await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(consumer.clientId, consumer.token), groups: 'us' } });
    expect(refusal.status).toBe(403);
  });

  it('drops default groups that are no longer granted from the next connection', async () => {
    const consumer = await createConsumer(api, { groups: ['eu', 'us'] });
    const registered = await api.http
      .post('/consumers')
      .set('client_id', consumer.clientId)
      .set('client_secret', consumer.clientSecret)
      .send({ groups: ['eu', 'us'] })
      .expect(201);
    await api.http
      .patch(`/admin/clients/${consumer.clientId}`)
      .set(admin)
      .send({ groups: ['us', 'asia'] })
      .expect(200);

    const socket = await open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, registered.body.token) });

    expect((await socket.next()).groups).toEqual(['us']);
  });

  it.each([
    [{ groups: ['ok', 'bad group'] }, 'groups'],
    [{ groups: ['a**'] }, 'groups'],
    [{ groups: 'eu' }, 'groups'],
    [{}, 'groups'],
    [{ groups: ['eu'], client_secret: 'not-here-1234' }, 'client_secret'],
  ])('answers 400 naming the field when the new grants are %j', async (body, field) => {
    const consumer = await createConsumer(api, { groups: ['eu'] });

    const answer = await api.http.patch(`/admin/clients/${consumer.clientId}`).set(admin).send(body).expect(400);

    expect(answer.body.message).toContain(field);
  });
});
