import { request as httpRequest } from 'node:http';
import request from 'supertest';
import type { Alert } from '@app/alerting';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { recordAlerts } from '../support/mail/recorded-alerts.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

const deepJson = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

/** A consumer whose frames are kept as the exact text that arrived. */
async function rawConsumer(api: RunningExperienceApi): Promise<{ socket: TestSocket; texts: string[] }> {
  const consumer = await createConsumer(api);
  const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
  const texts: string[] = [];
  socket.socket.on('message', (data) => texts.push(data.toString()));
  await socket.next();
  return { socket, texts };
}

describe('hostile and careless input at the HTTP edge', () => {
  let api: RunningExperienceApi;
  let alerts: Alert[];
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    api = await startExperienceApi({ ENTITY_ALLOWED_CIDRS: '127.0.0.1/32', TRUST_PROXY: '127.0.0.1/32' });
    alerts = recordAlerts(api);
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
    // no request in this suite may look like an internal error to DevOps
    expect(alerts.filter((alert) => alert.kind === 'internal_error')).toEqual([]);
  });
  afterAll(async () => {
    await api.close();
  });

  async function consumer(): Promise<{ socket: TestSocket; texts: string[] }> {
    const raw = await rawConsumer(api);
    sockets.push(raw.socket);
    return raw;
  }

  describe('null for an optional field means "not given"', () => {
    it('publishes an entity with "groups": null and "id": null to every consumer, with an id of its own', async () => {
      const { socket } = await consumer();

      const answer = await api.http
        .post('/entity')
        .send({ id: null, groups: null, data: { via: 'jackson' } })
        .expect(202);

      expect(answer.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await socket.next()).toMatchObject({ id: answer.body.id, groups: [], data: { via: 'jackson' } });
    });

    it('delivers a whole burst of "groups": null entities in seq order, and the sockets keep receiving', async () => {
      const { socket } = await consumer();

      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          api.http
            .post('/entity')
            .send({ id: `null-burst-${process.pid}-${i}`, groups: null, data: i })
            .expect(202),
        ),
      );
      const received: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 40; i++) received.push(await socket.next());
      const after = await api.http.post('/entity').send({ data: 'after' }).expect(202);

      expect(received.map((frame) => frame.seq)).toEqual(answers.map((answer) => answer.body.seq).sort((a, b) => a - b));
      expect((await socket.next()).id).toBe(after.body.id);
      const retried = await api.http
        .post('/entity')
        .send({ id: `null-burst-${process.pid}-0`, groups: null, data: 0 })
        .expect(200);
      expect(retried.body).toEqual({ id: `null-burst-${process.pid}-0`, seq: answers[0].body.seq, duplicate: true });
    });

    it('creates a client with "client_secret": null and "groups": null, and registers with "groups": null', async () => {
      const clientId = uniqueClientId();
      const created = await api.http.post('/admin/clients').set(admin).send({ client_id: clientId, client_secret: null, groups: null }).expect(201);
      expect(created.body.client_secret).toMatch(/^[A-Za-z0-9_-]{32,}$/);

      const registered = await api.http
        .post('/consumers')
        .set('client_id', clientId)
        .set('client_secret', created.body.client_secret)
        .send({ groups: null })
        .expect(201);
      const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, registered.body.token) });
      sockets.push(socket);
      expect((await socket.next()).groups).toEqual([]);
    });

    it('still requires data, and null data is data', async () => {
      const { socket } = await consumer();
      await api.http.post('/entity').send({ groups: null }).expect(400);
      const answer = await api.http.post('/entity').send({ data: null }).expect(202);
      expect(await socket.next()).toMatchObject({ id: answer.body.id, data: null });
    });
  });

  describe('deep and heavy JSON', () => {
    it.each([
      ['/entity', () => api.http.post('/entity')],
      ['/admin/clients', () => api.http.post('/admin/clients').set(admin)],
    ])('answers a 10,000-deep body on %s with 400 naming the limit', async (_path, call) => {
      const answer = await call()
        .set('Content-Type', 'application/json')
        .send(`{"data": ${deepJson(10_000)}}`)
        .expect(400);
      expect(answer.body).toEqual({ error: 'bad_request', message: 'request body nests deeper than 64 levels' });
    });

    it('checks credentials on /consumers before it reads the body: a deep body without them is 401, with them 400', async () => {
      const created = await createConsumer(api);
      // deep, yet inside the 8 KiB registration limit
      const body = `{"groups": ${deepJson(4_000, '"x"')}}`;

      const anonymous = await api.http.post('/consumers').set('Content-Type', 'application/json').send(body).expect(401);
      const wrong = await api.http.post('/consumers').auth(created.clientId, 'not-the-secret').set('Content-Type', 'application/json').send(body).expect(401);
      const right = await api.http
        .post('/consumers')
        .auth(created.clientId, created.clientSecret)
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);

      expect(anonymous.body.error).toBe('unauthorized');
      expect(wrong.body).toEqual(anonymous.body);
      expect(right.body.message).toBe('request body nests deeper than 64 levels');
    });

    it('checks the publisher allow-list before it reads the body', async () => {
      const answer = await api.http
        .post('/entity')
        .set('X-Forwarded-For', '203.0.113.9')
        .set('Content-Type', 'application/json')
        .send(`{"data": ${deepJson(10_000)}`)
        .expect(403);
      expect(answer.body.message).toBe('203.0.113.9 may not publish entities');
    });

    it('accepts data nested 60 levels deep and a 1 MiB entity of many small values, delivered whole', async () => {
      const { socket, texts } = await consumer();
      const values = `[${Array.from({ length: 250_000 }, (_, i) => i % 10).join(',')}]`;

      await api.http
        .post('/entity')
        .set('Content-Type', 'application/json')
        .send(`{"data": ${deepJson(60)}}`)
        .expect(202);
      const heavy = await api.http.post('/entity').set('Content-Type', 'application/json').send(`{"data": ${values}}`).expect(202);

      expect((await socket.next()).data).toEqual(JSON.parse(deepJson(60)));
      expect((await socket.next()).id).toBe(heavy.body.id);
      expect(texts.find((text) => text.includes(heavy.body.id))).toContain(`"data":${values},`);
    });

    it('keeps registration bodies small and admin bodies modest, each with 413', async () => {
      const created = await createConsumer(api);
      const many = JSON.stringify({ groups: Array.from({ length: 1_000 }, (_, i) => `group-${i}`) });
      const answer = await api.http
        .post('/consumers')
        .auth(created.clientId, created.clientSecret)
        .set('Content-Type', 'application/json')
        .send(many)
        .expect(413);
      expect(answer.body).toEqual({ error: 'payload_too_large', message: 'request body is larger than 8192 bytes' });

      const huge = JSON.stringify({ client_id: uniqueClientId(), client_secret: 's'.repeat(70_000) });
      await api.http.post('/admin/clients').set(admin).set('Content-Type', 'application/json').send(huge).expect(413);
    });

    it('takes an empty chunked body for no body', async () => {
      const created = await createConsumer(api);
      const answer = await new Promise<number>((resolve, reject) => {
        const call = httpRequest(`${api.httpUrl}/consumers`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', client_id: created.clientId, client_secret: created.clientSecret },
        });
        call.on('response', (response) => resolve(response.statusCode ?? 0)).on('error', reject);
        call.end();
      });
      expect(answer).toBe(201);
    });

    it('answers a body that is not UTF-8 with 400 rather than altering it', async () => {
      const body = Buffer.concat([Buffer.from('{"data": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
      const answer = await postBytes(`${api.httpUrl}/entity`, body);
      expect(answer).toEqual({ status: 400, body: { error: 'bad_request', message: 'request body is not valid UTF-8' } });
    });
  });

  describe('data is delivered exactly as it was sent', () => {
    it('keeps __proto__, constructor and prototype keys at any depth, big integers, and number spellings', async () => {
      const { socket, texts } = await consumer();
      const data =
        '{"__proto__": {"admin": true}, "a": {"constructor": {"prototype": {"x": 1}}, "list": [{"__proto__": null}]}, ' +
        '"id": 12345678901234567890123, "price": 1.50, "ratio": 1e-7, "neg": -0, "text": "\\u00e9\\n"}';

      const answer = await api.http.post('/entity').set('Content-Type', 'application/json').send(`{"data": ${data}}`).expect(202);

      const frame = await socket.next<{ id: string; data: Record<string, unknown> }>();
      expect(frame.id).toBe(answer.body.id);
      expect(texts.find((text) => text.includes(answer.body.id))).toContain(`"data":${data},"published_at"`);
      expect(Object.hasOwn(frame.data, '__proto__')).toBe(true);
    });

    it.each(['__proto__', 'constructor'])('refuses %s as a field of the envelope itself', async (key) => {
      const answer = await api.http.post('/entity').set('Content-Type', 'application/json').send(`{"data": 1, "${key}": {"groups": ["x"]}}`).expect(400);
      expect(answer.body.message).toBe(`property ${key} should not exist`);
    });
  });

  describe('client ids that no client can have', () => {
    it('answers a NUL in a Basic client id on /consumers with the usual 401', async () => {
      const basic = Buffer.from('ab\u0000cd:some-secret-value').toString('base64');
      const answer = await api.http.post('/consumers').set('Authorization', `Basic ${basic}`).expect(401);
      expect(answer.body).toEqual({ error: 'unauthorized', message: 'invalid client credentials' });
    });

    it('answers a NUL in a client_id header on /consumers with the usual 401', async () => {
      const answer = await api.http.post('/consumers').set('client_id', 'ab%00cd').set('client_secret', 'some-secret-value').expect(401);
      expect(answer.body.error).toBe('unauthorized');
    });
  });
});

describe('registration attempts are limited per address and per client', () => {
  let api: RunningExperienceApi;

  afterEach(async () => {
    await api.close();
  });

  it('answers 429 with Retry-After once an address has used its burst, right or wrong credentials alike, and spares other addresses', async () => {
    api = await startExperienceApi({ TRUST_PROXY: '127.0.0.1/32', REGISTRATION_RATE_PER_MINUTE: '6', REGISTRATION_BURST: '3' });
    const created = await createConsumerFrom(api, '198.51.100.1');
    const guess = () => api.http.post('/consumers').set('X-Forwarded-For', '198.51.100.2').auth(created.clientId, 'a-wrong-guess');

    const answers = await Promise.all(Array.from({ length: 5 }, () => guess()));
    const right = await api.http.post('/consumers').set('X-Forwarded-For', '198.51.100.2').auth(created.clientId, created.clientSecret);

    expect(answers.map((answer) => answer.status).sort()).toEqual([401, 401, 401, 429, 429]);
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toMatch(/^(9|10)$/);
    expect(right.body).toEqual({ error: 'too_many_requests', message: 'too many registration attempts; retry later' });
    await api.http.post('/consumers').set('X-Forwarded-For', '198.51.100.3').auth(created.clientId, created.clientSecret).expect(201);
  });

  it('answers 429 once a client id has used its burst, from whatever address, and spares other clients', async () => {
    api = await startExperienceApi({ TRUST_PROXY: '127.0.0.1/32', REGISTRATION_CLIENT_RATE_PER_MINUTE: '1', REGISTRATION_CLIENT_BURST: '2' });
    const [target, other] = [await createConsumerFrom(api, '198.51.100.1'), await createConsumerFrom(api, '198.51.100.1')];

    const answers = [];
    for (const address of ['198.51.100.10', '198.51.100.11', '198.51.100.12']) {
      answers.push(await api.http.post('/consumers').set('X-Forwarded-For', address).auth(target.clientId, 'a-wrong-guess'));
    }

    expect(answers.map((answer) => answer.status)).toEqual([401, 429, 429]);
    expect(Number(answers[2].headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await api.http.post('/consumers').set('X-Forwarded-For', '198.51.100.13').auth(other.clientId, other.clientSecret).expect(201);
  });
});

/** POSTs bytes exactly as given, as application/json. */
async function postBytes(url: string, bytes: Buffer): Promise<{ status: number; body: unknown }> {
  const answer = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: bytes });
  return { status: answer.status, body: await answer.json() };
}

/** A client created through the admin API, registered once from `address` (which uses one attempt of that address and of the client). */
async function createConsumerFrom(api: RunningExperienceApi, address: string): Promise<{ clientId: string; clientSecret: string }> {
  const clientId = uniqueClientId();
  const created = await request(api.httpUrl).post('/admin/clients').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ client_id: clientId }).expect(201);
  await request(api.httpUrl).post('/consumers').set('X-Forwarded-For', address).auth(clientId, created.body.client_secret).expect(201);
  return { clientId, clientSecret: created.body.client_secret };
}
