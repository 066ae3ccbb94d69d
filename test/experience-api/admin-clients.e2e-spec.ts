import { DataSource } from 'typeorm';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

describe('operators manage clients', () => {
  let api: RunningExperienceApi;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('lists clients a page at a time in id order, never with a secret', async () => {
    const prefix = uniqueClientId('list');
    for (const suffix of ['c', 'a', 'b']) {
      await api.http
        .post('/admin/clients')
        .set(admin)
        .send({ client_id: `${prefix}-${suffix}`, groups: [suffix, `${suffix}/*`] })
        .expect(201);
    }

    const first = await api.http
      .get('/admin/clients')
      .query({ after: `${prefix}-`, limit: 2 })
      .set(admin)
      .expect(200);
    const second = await api.http.get('/admin/clients').query({ after: first.body.next, limit: 2 }).set(admin).expect(200);

    expect(first.body.clients.map((client: { client_id: string }) => client.client_id)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(first.body.next).toBe(`${prefix}-b`);
    expect(second.body.clients[0]).toEqual({ client_id: `${prefix}-c`, groups: ['c', 'c/*'], default_groups: null, created_at: expect.any(String) });
    expect(JSON.stringify([first.body, second.body])).not.toMatch(/secret|scrypt/);
  });

  it('says on the last page that there is no next one', async () => {
    const answer = await api.http.get('/admin/clients').query({ after: 'zzzzzzzz', limit: 500 }).set(admin).expect(200);
    expect(answer.body).toEqual({ clients: [], next: null });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '501' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ after: 'bad id!' }, 'after'],
    [{ surprise: '1' }, 'surprise'],
  ])('answers 400 naming the parameter for the query %j', async (query, name) => {
    const answer = await api.http.get('/admin/clients').query(query).set(admin).expect(400);
    expect(answer.body.message).toContain(name);
  });

  it('shows one client with its live socket while it is connected', async () => {
    const consumer = await createConsumer(api, { groups: ['eu'] });
    const offline = await api.http.get(`/admin/clients/${consumer.clientId}`).set(admin).expect(200);
    expect(offline.body).toEqual({ client_id: consumer.clientId, groups: ['eu'], default_groups: null, created_at: expect.any(String), live_socket: null });

    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const welcome = await socket.next();
    const online = await api.http.get(`/admin/clients/${consumer.clientId}`).set(admin).expect(200);
    await socket.close();

    expect(online.body.live_socket).toEqual({ socket_id: welcome.socket_id, instance_id: expect.any(String), connected_at: expect.any(String) });
  });

  it('rotates a secret: the new one registers, the old one no longer does, the token already issued still connects', async () => {
    const consumer = await createConsumer(api);

    const rotated = await api.http.post(`/admin/clients/${consumer.clientId}/secret`).set(admin).expect(201);

    expect(rotated.body).toEqual({ client_id: consumer.clientId, client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{32,}$/) });
    await api.http.post('/consumers').set('client_id', consumer.clientId).set('client_secret', consumer.clientSecret).expect(401);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect((await socket.next()).type).toBe('welcome');
    await socket.close();
    await api.http.post('/consumers').set('client_id', consumer.clientId).set('client_secret', rotated.body.client_secret).expect(201);
  });

  it('rotates to a chosen secret', async () => {
    const consumer = await createConsumer(api);
    await api.http.post(`/admin/clients/${consumer.clientId}/secret`).set(admin).send({ client_secret: 'chosen-secret-9876' }).expect(201, {
      client_id: consumer.clientId,
      client_secret: 'chosen-secret-9876',
    });
    await api.http.post('/consumers').auth(consumer.clientId, 'chosen-secret-9876').expect(201);
  });

  it.each([
    ['GET', ''],
    ['PATCH', ''],
    ['DELETE', ''],
    ['POST', '/secret'],
  ])('answers %s on an unknown client with 404', async (method, suffix) => {
    const call = api.http[method.toLowerCase() as 'get'](`/admin/clients/${uniqueClientId('unknown')}${suffix}`).set(admin);
    const answer = await (method === 'PATCH' ? call.send({ groups: [] }) : call);
    expect(answer.status).toBe(404);
    expect(answer.body.error).toBe('not_found');
  });

  it.each([
    ['GET', 'ab%00cd'],
    ['DELETE', 'ab%00cd'],
    ['PATCH', 'a%20b'],
    ['POST', `${'x'.repeat(65)}/secret`],
  ])('answers %s on the client id %s, which no client can have, with 400 before any query', async (method, id) => {
    const call = api.http[method.toLowerCase() as 'get'](`/admin/clients/${id}`).set(admin);
    const answer = await (method === 'PATCH' ? call.send({ groups: [] }) : call);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: 'bad_request', message: expect.stringContaining('client_id must match') });
  });

  it('keeps every admin route behind the admin token', async () => {
    const consumer = await createConsumer(api);
    await api.http.get('/admin/clients').expect(401);
    await api.http.get(`/admin/clients/${consumer.clientId}`).expect(401);
    await api.http
      .patch(`/admin/clients/${consumer.clientId}`)
      .send({ groups: ['*'] })
      .expect(401);
    await api.http.post(`/admin/clients/${consumer.clientId}/secret`).expect(401);
    const [row] = await api.app.get(DataSource).query('SELECT grants FROM clients WHERE client_id = $1', [consumer.clientId]);
    expect(row.grants).toEqual([]);
  });
});
