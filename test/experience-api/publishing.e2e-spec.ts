import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

describe('POST /entity', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(async () => {
    await api.close();
  });

  it('assigns an id when none is given, and seq increases with every entity', async () => {
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await api.http.post('/entity').send({ data: i }).expect(202);
      expect(answer.body.id).toMatch(/^[0-9a-f-]{36}$/);
      seqs.push(answer.body.seq);
    }
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(5);
  });

  it('delivers concurrent publishes to a consumer in seq order', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    await socket.next();
    await Promise.all(Array.from({ length: 20 }, (_, i) => api.http.post('/entity').send({ data: i }).expect(202)));
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push((await socket.next()).seq as number);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await socket.close();
  });

  it.each([
    [{}, 'data'],
    [{ id: '', data: 1 }, 'id'],
    [{ id: 'has space', data: 1 }, 'id'],
    [{ id: 'x'.repeat(257), data: 1 }, 'id'],
    [{ id: 7, data: 1 }, 'id'],
    [{ groups: 'eu', data: 1 }, 'groups'],
    [{ groups: [], data: 1 }, 'groups'],
    [{ groups: ['bad group'], data: 1 }, 'groups'],
    [{ data: 1, extra: true }, 'extra'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const answer = await api.http.post('/entity').send(body).expect(400);
    expect(answer.body.error).toBe('bad_request');
    expect(answer.body.message).toContain(field);
  });

  it('accepts any JSON value as data, null included', async () => {
    for (const data of [null, 0, false, 'text', [1, 'two'], { nested: { deep: [true] } }]) {
      await api.http.post('/entity').send({ data }).expect(202);
    }
  });

  it('answers malformed JSON with 400 and a body over 1 MiB with 413', async () => {
    await api.http.post('/entity').set('Content-Type', 'application/json').send('{"data": [1, 2').expect(400);
    const big = JSON.stringify({ data: 'a'.repeat(1_048_576) });
    const answer = await api.http.post('/entity').set('Content-Type', 'application/json').send(big).expect(413);
    expect(answer.body.error).toBe('payload_too_large');
  });

  it('accepts a body just under 1 MiB', async () => {
    const data = 'a'.repeat(1_048_576 - 100);
    await api.http.post('/entity').send({ data }).expect(202);
  });
});

describe('POST /entity allow list', () => {
  it('refuses callers outside ENTITY_ALLOWED_CIDRS with 403, whatever X-Forwarded-For claims', async () => {
    const api = await startExperienceApi({ ENTITY_ALLOWED_CIDRS: '10.0.0.0/8' });
    try {
      const answer = await api.http.post('/entity').send({ data: 1 }).expect(403);
      expect(answer.body.error).toBe('forbidden');
      // the peer (127.0.0.1) is not a trusted proxy, so its header is not believed
      await api.http.post('/entity').set('X-Forwarded-For', '10.1.2.3').send({ data: 1 }).expect(403);
    } finally {
      await api.close();
    }
  });

  it('believes X-Forwarded-For from a trusted proxy', async () => {
    const api = await startExperienceApi({ ENTITY_ALLOWED_CIDRS: '10.0.0.0/8', TRUST_PROXY: '127.0.0.1/32' });
    try {
      await api.http.post('/entity').set('X-Forwarded-For', '10.1.2.3').send({ data: 1 }).expect(202);
      await api.http.post('/entity').set('X-Forwarded-For', '192.0.2.7').send({ data: 1 }).expect(403);
      // the right-most untrusted hop decides, not an address the client wrote in front
      await api.http.post('/entity').set('X-Forwarded-For', '10.1.2.3, 192.0.2.7').send({ data: 1 }).expect(403);
    } finally {
      await api.close();
    }
  });
});
