import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';

const AUTH = `Bearer ${ADMIN_TOKEN}`;

/** A refused upgrade's status, as a consumer with a wrong token sees it. */
function refusedHandshake(url: string, clientId: string): Promise<number> {
  const socket = new WebSocket(`${url}/ws/publish`, { headers: { client_id: clientId, Authorization: 'Bearer wrong-token-wrong-token-wrong-token-wrong-t' } });
  socket.on('error', () => undefined);
  return new Promise((done) =>
    socket.on('unexpected-response', (request, response) => {
      done(response.statusCode ?? 0);
      request.destroy();
    }),
  );
}

describe('the admin API the operator console reads: activity, stats, system-api', () => {
  let api: RunningExperienceApi;
  let fakeSystem: Server;
  let answer: { status: number; body: string };

  beforeAll(async () => {
    // stands in for system-api's /health: the test chooses what it answers
    fakeSystem = createServer((request, response) => {
      if (request.url !== '/health') return void response.writeHead(404).end();
      response.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => fakeSystem.listen(0, '127.0.0.1', resolve));
    api = await startExperienceApi({ SYSTEM_API_URL: `http://127.0.0.1:${(fakeSystem.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await api?.close();
    await new Promise((resolve) => fakeSystem?.close(resolve));
  });

  it.each(['/admin/activity', '/admin/stats', '/admin/system'])('%s needs the admin token', async (path) => {
    const refused = await api.http.get(path).set('Authorization', 'Bearer not-the-token').expect(401);
    expect(refused.body.error).toBe('unauthorized');
    await api.http.get(path).expect(401);
  });

  it('counts sockets, publishes and deliveries', async () => {
    const before = (await api.http.get('/admin/stats').set('Authorization', AUTH).expect(200)).body;
    expect(before).toEqual({
      at: expect.stringMatching(/^\d{4}-/),
      instance_id: expect.any(String),
      sockets_open: expect.any(Number),
      entities_published: expect.any(Number),
      deliveries: expect.any(Number),
      delivery_failures: expect.any(Number),
      handshakes_accepted: expect.any(Number),
      handshakes_refused: expect.any(Number),
    });
    const consumer = await createConsumer(api);
    const socket = new WebSocket(`${api.wsUrl}/ws/publish`, { headers: { client_id: consumer.clientId, Authorization: `Bearer ${consumer.token}` } });
    const frames: string[] = [];
    socket.on('message', (data) => frames.push(String(data)));
    await new Promise((resolve) => socket.once('message', resolve));
    await api.http
      .post('/entity')
      .send({ data: { n: 1 } })
      .expect(202);
    await new Promise<void>((resolve) => (frames.length >= 2 ? resolve() : socket.once('message', () => resolve())));

    const after = (await api.http.get('/admin/stats').set('Authorization', AUTH).expect(200)).body;
    expect(after.sockets_open).toBe(before.sockets_open + 1);
    expect(after.entities_published).toBe(before.entities_published + 1);
    expect(after.deliveries).toBeGreaterThanOrEqual(before.deliveries + 1);
    expect(after.handshakes_accepted).toBe(before.handshakes_accepted + 1);
    socket.close();
  });

  it('lists refusals, folding repeats, with the address and client but never the token tried', async () => {
    const clientId = uniqueClientId('intruder');
    expect(await refusedHandshake(api.wsUrl, clientId)).toBe(401);
    expect(await refusedHandshake(api.wsUrl, clientId)).toBe(401);
    await api.http.post('/consumers').set('client_id', clientId).set('client_secret', 'wrong-secret-123456').expect(401);

    const activity = await api.http.get('/admin/activity').set('Authorization', AUTH).expect(200);
    const [registration, handshake] = activity.body.refusals;
    expect(registration).toMatchObject({ place: 'http', route: 'POST /consumers', status: 401, remote_address: '127.0.0.1', count: 1 });
    expect(handshake).toMatchObject({ place: 'handshake', route: 'GET /ws/publish', status: 401, client_id: clientId, remote_address: '127.0.0.1', count: 2 });
    expect(JSON.stringify(activity.body)).not.toMatch(/wrong-token|wrong-secret/);
    expect(activity.body.alerts).toContainEqual(
      expect.objectContaining({ kind: 'handshake_refused', severity: 'warning', active: true, count: expect.any(Number) }),
    );
  });

  it("passes system-api's health on as it is, a 503 health included", async () => {
    const health = {
      status: 'degraded',
      checks: { database: { status: 'up' }, experience_api: { status: 'up' } },
      sources: [{ name: 'orders', state: 'down' }],
      outbox: { pending: 3, dead_letters: 1 },
    };
    answer = { status: 200, body: JSON.stringify(health) };
    const seen = await api.http.get('/admin/system').set('Authorization', AUTH).expect(200);
    expect(seen.body).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), reachable: true, health, error: null });

    answer = { status: 503, body: JSON.stringify({ ...health, status: 'error' }) };
    expect((await api.http.get('/admin/system').set('Authorization', AUTH).expect(200)).body).toMatchObject({ reachable: true, health: { status: 'error' } });
  });

  it('says when what answers is not system-api', async () => {
    answer = { status: 200, body: '<html>a proxy page</html>' };
    expect((await api.http.get('/admin/system').set('Authorization', AUTH).expect(200)).body).toMatchObject({
      reachable: false,
      health: null,
      error: 'system-api answered 200 without its health',
    });
  });

  it('has no console where there is no admin API', async () => {
    const production = await startExperienceApi({ NODE_ENV: 'production', ADMIN_TOKEN: '' });
    try {
      await production.http.get('/console/').expect(404);
      await production.http.get('/admin/stats').expect(404);
    } finally {
      await production.close();
    }
  });
});
