import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { eventually } from '../support/time/eventually.js';

// POST /entities: a JSON array of entities, each under POST /entity's rules, published in array order.

const run = `${Date.now().toString(36)}-${process.pid}`;

interface ItemResult {
  id?: string;
  seq?: number;
  duplicate?: boolean;
  error?: string;
  message?: string;
  status?: number;
}

/** A consumer that keeps every entity frame it receives, in order. */
class Frames {
  readonly entities: Array<{ id: string; seq: number; data: unknown; text: string }> = [];

  private constructor(readonly socket: TestSocket) {
    socket.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; id: string; seq: number; data: unknown };
      if (frame.type === 'entity') this.entities.push({ id: frame.id, seq: frame.seq, data: frame.data, text: data.toString() });
    });
  }

  static async open(api: RunningExperienceApi, groups?: string[]): Promise<Frames> {
    const consumer = await createConsumer(api, groups ? { groups } : {});
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const frames = new Frames(socket);
    expect((await socket.next()).type).toBe('welcome');
    return frames;
  }

  ids(prefix: string): string[] {
    return this.entities.filter((entity) => entity.id.startsWith(prefix)).map((entity) => entity.id);
  }
}

async function metric(api: RunningExperienceApi, name: string): Promise<number> {
  const text = (await api.http.get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('POST /entities', () => {
  let api: RunningExperienceApi;
  let frames: Frames;

  beforeAll(async () => {
    api = await startExperienceApi();
    frames = await Frames.open(api);
  });
  afterAll(async () => {
    frames?.socket.socket.terminate();
    await api.close();
  });

  it('publishes every entity in array order, with seqs increasing in that order, and the consumer receives each once, in order', async () => {
    const prefix = `happy-${run}-`;
    const before = await metric(api, 'push_gateway_entities_published_total');
    const entities = Array.from({ length: 500 }, (_, n) => ({ id: `${prefix}${n}`, data: { n, big: 12345678901234567890 } }));
    const answer = await api.http.post('/entities').send(entities).expect(200);
    const results = answer.body.results as ItemResult[];

    expect(results.map((result) => result.id)).toEqual(entities.map((entity) => entity.id));
    expect(results.every((result) => Object.keys(result).sort().join() === 'id,seq')).toBe(true);
    const seqs = results.map((result) => result.seq!);
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1])).toBe(true);

    await eventually(() => frames.ids(prefix).length === 500, 10_000);
    expect(frames.ids(prefix)).toEqual(entities.map((entity) => entity.id));
    expect(frames.entities.filter((entity) => entity.id.startsWith(prefix)).map((entity) => entity.seq)).toEqual(seqs);
    expect(await metric(api, 'push_gateway_entities_published_total')).toBe(before + 500);
  });

  it('passes data on as the exact text sent, and assigns an id when none is given', async () => {
    const prefix = `exact-${run}-`;
    const body = `[{"id": "${prefix}1", "data": {"n": 12345678901234567890, "p": 1.50, "__proto__": {"x": 1}}}, {"data": null}, {"id": null, "groups": null, "data": [1e-7]}]`;
    const answer = await api.http.post('/entities').set('Content-Type', 'application/json').send(body).expect(200);
    const results = answer.body.results as ItemResult[];
    expect(results[0].id).toBe(`${prefix}1`);
    expect(results[1].id).toMatch(/^[0-9a-f-]{36}$/);
    expect(results[2].id).toMatch(/^[0-9a-f-]{36}$/);
    const textOf = (id: string) => frames.entities.find((entity) => entity.id === id)?.text;
    await eventually(() => textOf(results[2].id!) !== undefined, 5_000);
    expect(textOf(`${prefix}1`)).toContain('"data":{"n": 12345678901234567890, "p": 1.50, "__proto__": {"x": 1}}');
    expect(textOf(results[1].id!)).toContain('"data":null');
    expect(textOf(results[2].id!)).toContain('"data":[1e-7]');
  });

  it('refuses bad entities one by one, with the messages of POST /entity, and publishes the others in order', async () => {
    const prefix = `mixed-${run}-`;
    const before = await metric(api, 'push_gateway_entities_published_total');
    const body = [
      { id: `${prefix}1`, data: 1 },
      { id: `${prefix}2`, groups: [], data: 2 },
      { id: `${prefix}3`, data: 3 },
      { id: 'has space', data: 4 },
      { id: `${prefix}5` },
      'not an object',
      { id: `${prefix}7`, data: 7, extra: true },
      { id: `${prefix}8`, groups: ['bad group'], data: 8 },
      { id: `${prefix}9`, groups: ['eu'], data: 9 },
      { id: `${prefix}10`, data: 10 },
    ];
    const answer = await api.http.post('/entities').send(body).expect(200);
    const results = answer.body.results as ItemResult[];

    expect(results).toHaveLength(body.length);
    expect(results[0]).toEqual({ id: `${prefix}1`, seq: expect.any(Number) });
    expect(results[1]).toEqual({ error: 'bad_request', status: 400, message: 'groups must not be empty; leave it out to publish to every consumer' });
    expect(results[2]).toEqual({ id: `${prefix}3`, seq: expect.any(Number) });
    expect(results[3]).toEqual({ error: 'bad_request', status: 400, message: 'id must be printable ASCII without spaces' });
    expect(results[4]).toEqual({ error: 'bad_request', status: 400, message: 'data is required (any JSON value)' });
    expect(results[5]).toMatchObject({ error: 'bad_request', status: 400, message: expect.stringContaining('JSON object') });
    expect(results[6]).toEqual({ error: 'bad_request', status: 400, message: 'property extra should not exist' });
    expect(results[7]).toMatchObject({ error: 'bad_request', status: 400, message: expect.stringContaining('groups') });
    expect(results[8]).toEqual({ id: `${prefix}9`, seq: expect.any(Number) });
    expect(results[9]).toEqual({ id: `${prefix}10`, seq: expect.any(Number) });
    const seqs = [0, 2, 8, 9].map((i) => results[i].seq!);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);

    // the consumer is in no group: it gets everything published to every consumer, in order, and nothing refused
    await eventually(() => frames.ids(prefix).length === 3, 5_000);
    expect(frames.ids(prefix)).toEqual([`${prefix}1`, `${prefix}3`, `${prefix}10`]);
    expect(await metric(api, 'push_gateway_entities_published_total')).toBe(before + 4);
  });

  it('answers an id repeated within a request, or sent again in a later request, as a duplicate, and delivers it once', async () => {
    const prefix = `dup-${run}-`;
    const before = await metric(api, 'push_gateway_entity_duplicates_total');
    const first = await api.http
      .post('/entities')
      .send([
        { id: `${prefix}a`, data: 'first' },
        { id: `${prefix}b`, data: 'b' },
        { id: `${prefix}a`, data: 'again' },
        { id: `${prefix}c`, data: 'c' },
      ])
      .expect(200);
    const r1 = first.body.results as ItemResult[];
    expect(r1[2]).toEqual({ id: `${prefix}a`, seq: r1[0].seq, duplicate: true });
    expect(r1[0].seq! < r1[1].seq! && r1[1].seq! < r1[3].seq!).toBe(true);

    // a publisher retrying a request it got no answer to: the repeat is answered duplicate, the new one published
    const second = await api.http
      .post('/entities')
      .send([
        { id: `${prefix}b`, data: 'b' },
        { id: `${prefix}c`, data: 'c' },
        { id: `${prefix}d`, data: 'd' },
      ])
      .expect(200);
    const r2 = second.body.results as ItemResult[];
    expect(r2).toEqual([
      { id: `${prefix}b`, seq: r1[1].seq, duplicate: true },
      { id: `${prefix}c`, seq: r1[3].seq, duplicate: true },
      { id: `${prefix}d`, seq: expect.any(Number) },
    ]);
    expect(r2[2].seq!).toBeGreaterThan(r1[3].seq!);

    await eventually(() => frames.ids(prefix).length === 4, 5_000);
    expect(frames.ids(prefix)).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`, `${prefix}d`]);
    expect(frames.entities.find((entity) => entity.id === `${prefix}a`)!.data).toBe('first');
    expect(await metric(api, 'push_gateway_entity_duplicates_total')).toBe(before + 3);
  });

  it('answers 400 for a body that is not an array of entities, or empty', async () => {
    for (const body of ['{"data": 1}', '[]', '"text"', '7', 'null', '[{"data": 1}', '[{"data": 1},]']) {
      const answer = await api.http.post('/entities').set('Content-Type', 'application/json').send(body).expect(400);
      expect(answer.body.error).toBe('bad_request');
      expect(typeof answer.body.message).toBe('string');
    }
    const notArray = await api.http.post('/entities').send({ data: 1 }).expect(400);
    expect(notArray.body.message).toBe('request body must be a JSON array of 1 to 1000 entity objects');
    const none = await api.http.post('/entities').set('Content-Type', 'application/json').send('').expect(400);
    expect(none.body.error).toBe('bad_request');
    await api.http.post('/entities').set('Content-Type', 'text/plain').send('[{"data": 1}]').expect(415);
  });

  it('gives each entity the depth a body of its own has', async () => {
    const ok = `[{"data": ${'['.repeat(63)}${']'.repeat(63)}}]`;
    const answer = await api.http.post('/entities').set('Content-Type', 'application/json').send(ok).expect(200);
    expect(answer.body.results[0].seq).toEqual(expect.any(Number));
    const deep = `[{"data": ${'['.repeat(64)}${']'.repeat(64)}}]`;
    const refused = await api.http.post('/entities').set('Content-Type', 'application/json').send(deep).expect(400);
    expect(refused.body.message).toBe('an element of the request body nests deeper than 64 levels');
  });

  it('answers 413 for more than 1,000 entities or a body over 8 MiB, and refuses alone an entity over 1 MiB', async () => {
    const tooMany = await api.http
      .post('/entities')
      .send(Array.from({ length: 1_001 }, (_, n) => ({ data: n })))
      .expect(413);
    expect(tooMany.body).toEqual({ error: 'payload_too_large', message: 'request body holds 1001 entity objects; at most 1000 are taken at once' });
    await api.http
      .post('/entities')
      .send(Array.from({ length: 1_000 }, (_, n) => ({ data: n })))
      .expect(200);

    const tooBig = JSON.stringify(Array.from({ length: 9 }, () => ({ data: 'a'.repeat(1_000_000) })));
    const big = await api.http.post('/entities').set('Content-Type', 'application/json').send(tooBig).expect(413);
    expect(big.body).toEqual({ error: 'payload_too_large', message: `request body is larger than ${8 * 1_048_576} bytes` });

    const prefix = `size-${run}-`;
    const mixed = await api.http
      .post('/entities')
      .send([
        { id: `${prefix}1`, data: 'a'.repeat(1_048_576) },
        { id: `${prefix}2`, data: 'a'.repeat(1_048_576 - 100) },
      ])
      .expect(200);
    expect(mixed.body.results).toEqual([
      { error: 'payload_too_large', status: 413, message: 'entity is larger than 1048576 bytes' },
      { id: `${prefix}2`, seq: expect.any(Number) },
    ]);
  });

  it('lives beside GET /entities, the history, which still asks for a consumer token', async () => {
    const answer = await api.http.get('/entities?since=0').expect(401);
    expect(answer.body.error).toBe('unauthorized');
    await api.http
      .put('/entities')
      .send([{ data: 1 }])
      .expect(404);
  });
});

describe('POST /entities allow list', () => {
  it('refuses callers outside ENTITY_ALLOWED_CIDRS with 403 before reading the body, whatever X-Forwarded-For claims', async () => {
    const api = await startExperienceApi({ ENTITY_ALLOWED_CIDRS: '10.0.0.0/8' });
    try {
      const answer = await api.http
        .post('/entities')
        .send([{ data: 1 }])
        .expect(403);
      expect(answer.body).toEqual({ error: 'forbidden', message: '127.0.0.1 may not publish entities' });
      await api.http
        .post('/entities')
        .set('X-Forwarded-For', '10.1.2.3')
        .send([{ data: 1 }])
        .expect(403);
      // not parsed: a body that is not even JSON is refused for the caller, not the body
      await api.http.post('/entities').set('Content-Type', 'application/json').send('[{').expect(403);
    } finally {
      await api.close();
    }
  });
});
