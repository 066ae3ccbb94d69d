import { FreshDatabase } from '../support/cluster/fresh-database.js';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, type Consumer, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { databaseUrl } from '../support/processes/services.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { eventually } from '../support/time/eventually.js';

type Frame = Record<string, unknown>;

/**
 * A gateway whose history is its own: on Postgres it gets a database of its
 * own, since the history is the database's and other suites publish into the
 * shared one meanwhile (in-memory PGlite is always its own).
 */
async function startGateway(env: Record<string, string> = {}): Promise<RunningExperienceApi> {
  if (!databaseUrl) return startExperienceApi(env);
  const database = await FreshDatabase.create(databaseUrl, 'recovery');
  const api = await startExperienceApi({ ...env, DATABASE_URL: database.url });
  return {
    ...api,
    close: async () => {
      await api.close();
      await database.drop();
    },
  };
}

/** A consumer that remembers where it stopped, as docs/protocol.md asks of one. */
class RecoveringConsumer {
  lastSeq = 0;
  epoch?: string;
  socket?: TestSocket;
  /** Every entity seq received, across connections, in order of arrival. */
  readonly received: number[] = [];
  welcome?: Frame;

  constructor(
    private readonly api: RunningExperienceApi,
    readonly consumer: Consumer,
  ) {}

  /** Connects saying where it stopped (unless `fresh`), and takes the welcome. */
  async connect(how: 'header' | 'query' | 'subprotocol' | 'fresh' = 'header'): Promise<Frame> {
    const { clientId, token } = this.consumer;
    const since = String(this.lastSeq);
    const url = `${this.api.wsUrl}/ws/publish${how === 'query' ? `?since=${since}&epoch=${this.epoch}` : ''}`;
    this.socket =
      how === 'subprotocol'
        ? await TestSocket.open(url, { protocols: ['push.v1', `bearer.${token}`, `client_id.${clientId}`, `since.${since}`, `epoch.${this.epoch}`] })
        : await TestSocket.open(url, { headers: { ...consumerHeaders(clientId, token), ...(how === 'header' ? { last_seq: since } : {}) } });
    this.welcome = await this.socket.next();
    expect(this.welcome.type).toBe('welcome');
    this.epoch = this.welcome.epoch as string;
    // after a recovery the missed entities bring it up to last_seq; otherwise it starts from there
    if (this.welcome.recovered !== true) this.lastSeq = Math.max(this.lastSeq, this.welcome.last_seq as number);
    return this.welcome;
  }

  /** Takes frames until the entity with `seq` has arrived. */
  async takeThrough(seq: number): Promise<void> {
    while (this.lastSeq < seq) {
      const frame = await this.socket!.next();
      expect(frame.type).toBe('entity');
      this.received.push(frame.seq as number);
      this.lastSeq = frame.seq as number;
    }
  }

  async disconnect(): Promise<void> {
    await this.socket!.close();
  }
}

async function publish(api: RunningExperienceApi, groups?: string[]): Promise<number> {
  const answer = await api.http
    .post('/entity')
    .send({ ...(groups ? { groups } : {}), data: { at: Date.now() } })
    .expect(202);
  return answer.body.seq as number;
}

/** Publishes `count` entities, a third each to `eu`, to `us` and to everyone, `parallel` at a time; returns the seqs each group receives. */
async function publishMix(api: RunningExperienceApi, count: number, parallel = 10): Promise<{ forEu: number[]; forUs: number[] }> {
  const forEu: number[] = [];
  const forUs: number[] = [];
  for (let start = 0; start < count; start += parallel) {
    await Promise.all(
      Array.from({ length: Math.min(parallel, count - start) }, async (_, i) => {
        const kind = (start + i) % 3;
        const seq = await publish(api, kind === 0 ? ['eu'] : kind === 1 ? ['us'] : undefined);
        if (kind !== 1) forEu.push(seq);
        if (kind !== 0) forUs.push(seq);
      }),
    );
  }
  return { forEu: forEu.sort((a, b) => a - b), forUs: forUs.sort((a, b) => a - b) };
}

function expectExactlyInOrder(received: readonly number[], owed: readonly number[]): void {
  expect(received).toEqual([...owed].sort((a, b) => a - b));
}

describe.each([
  ['from memory', {}],
  ['from the database', { HISTORY_CACHE_ENTITIES: '0' }],
])('recovery by seq, %s', (_, env) => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startGateway(env);
  });
  afterAll(async () => {
    await api.close();
  });

  it('replays exactly the entities missed that the consumer is entitled to, in order, then the live stream, none twice', async () => {
    const consumer = new RecoveringConsumer(api, await createConsumer(api, { groups: ['eu'] }));
    const first = await consumer.connect('fresh');
    expect(first).toMatchObject({ last_seq: expect.any(Number), epoch: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(first).not.toHaveProperty('recovered');
    const before = await publish(api, ['eu']);
    await consumer.takeThrough(before);
    await consumer.disconnect();

    const missed = await publishMix(api, 500);
    // entities keep coming while the consumer reconnects and replays
    const during = publishMix(api, 60, 3);
    const welcome = await consumer.connect('header');
    expect(welcome).toMatchObject({ recovered: true, missed: expect.any(Number) });
    expect(welcome.missed as number).toBeGreaterThanOrEqual(missed.forEu.length);
    const live = await during;
    const sentinel = await publish(api);
    await consumer.takeThrough(sentinel);

    expectExactlyInOrder(consumer.received, [before, ...missed.forEu, ...live.forEu, sentinel]);
  }, 60_000);

  it('switches from replay to live without a gap or a duplicate, raced many times', async () => {
    const consumer = new RecoveringConsumer(api, await createConsumer(api, { groups: ['eu'] }));
    await consumer.connect('fresh');
    const owed: number[] = [];
    for (let round = 0; round < 25; round++) {
      await consumer.disconnect();
      owed.push(...(await publishMix(api, 6, 6)).forEu);
      // publishes land before, during and after the reconnect and its replay
      const racing = publishMix(api, 9, 3);
      const welcome = await consumer.connect(round % 2 === 0 ? 'header' : 'query');
      expect(welcome.recovered).toBe(true);
      owed.push(...(await racing).forEu);
      const last = await publish(api, ['eu']);
      owed.push(last);
      await consumer.takeThrough(last);
    }
    expectExactlyInOrder(consumer.received, owed);
  }, 120_000);

  it('recovers with the subprotocol form a browser uses', async () => {
    const consumer = new RecoveringConsumer(api, await createConsumer(api));
    await consumer.connect('fresh');
    await consumer.disconnect();
    const missed = [await publish(api), await publish(api)];
    const welcome = await consumer.connect('subprotocol');
    expect(welcome).toMatchObject({ recovered: true, missed: 2 });
    await consumer.takeThrough(missed[1]);
    expect(consumer.received).toEqual(missed);
  });

  it('says the gap is too long to replay when more were missed than RECOVERY_MAX_ENTITIES, and goes live', async () => {
    const small = await startGateway({ ...env, RECOVERY_MAX_ENTITIES: '5' });
    try {
      const consumer = new RecoveringConsumer(small, await createConsumer(small));
      await consumer.connect('fresh');
      await consumer.disconnect();
      const stoppedAt = consumer.lastSeq;
      for (let i = 0; i < 6; i++) await publish(small);
      expect(await consumer.connect('header')).toMatchObject({ recovered: false, reason: 'too_many' });
      const live = await publish(small);
      await consumer.takeThrough(live);
      expect(consumer.received).toEqual([live]);

      await consumer.disconnect();
      consumer.lastSeq = stoppedAt + 2;
      expect(await consumer.connect('header')).toMatchObject({ recovered: true, missed: 5 });
    } finally {
      await small.close();
    }
  });
});

describe('recovery positions that cannot be recovered', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startGateway();
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers epoch_changed for another epoch, or a seq this history never reached', async () => {
    const consumer = new RecoveringConsumer(api, await createConsumer(api));
    await consumer.connect('fresh');
    const epoch = consumer.epoch;
    await consumer.disconnect();
    consumer.epoch = '00000000-0000-4000-8000-000000000000';
    expect(await consumer.connect('query')).toMatchObject({ recovered: false, reason: 'epoch_changed', epoch });
    await consumer.disconnect();
    consumer.lastSeq += 1_000_000;
    expect(await consumer.connect('header')).toMatchObject({ recovered: false, reason: 'epoch_changed' });
  });

  it.each([
    [{ last_seq: 'twelve' }, 'whole number'],
    [{ last_seq: '-1' }, 'whole number'],
    [{ last_seq: '1', epoch: 'not an epoch!' }, 'epoch'],
    [{ epoch: 'abc' }, 'without the last seq'],
  ])('refuses %j with 400 before the upgrade', async (headers, message) => {
    const { clientId, token } = await createConsumer(api);
    const refusal = await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(clientId, token), ...headers } });
    expect(refusal.status).toBe(400);
    expect(refusal.body.message).toContain(message);
  });
});

describe('history pruning', () => {
  it('prunes by age: an expired position is answered history_expired, over the socket and over HTTP', async () => {
    const api = await startGateway({ HISTORY_RETENTION: '1s', HISTORY_PRUNE_INTERVAL: '100ms' });
    try {
      const consumer = new RecoveringConsumer(api, await createConsumer(api));
      await consumer.connect('fresh');
      await consumer.disconnect();
      const stoppedAt = consumer.lastSeq;
      const old = await publish(api);
      const headers = consumerHeaders(consumer.consumer.clientId, consumer.consumer.token);
      await eventually(async () => (await api.http.get(`/entities?since=${stoppedAt}`).set(headers)).status === 410, 15_000, 100, 'the entity pruned');
      const gone = await api.http.get(`/entities?since=${stoppedAt}`).set(headers).expect(410);
      // and where to resume, once resynchronised
      expect(gone.body).toMatchObject({ error: 'history_expired', last_seq: old, epoch: consumer.epoch });

      const welcome = await consumer.connect('header');
      expect(welcome).toMatchObject({ recovered: false, reason: 'history_expired' });
      expect(welcome.last_seq).toBeGreaterThanOrEqual(old);
      const live = await publish(api);
      await consumer.takeThrough(live);
      expect(consumer.received).toEqual([live]);
    } finally {
      await api.close();
    }
  });

  it('prunes by count: the newest HISTORY_MAX_ENTITIES stay', async () => {
    const api = await startGateway({ HISTORY_MAX_ENTITIES: '10', HISTORY_PRUNE_INTERVAL: '100ms' });
    try {
      const { clientId, token } = await createConsumer(api);
      const seqs: number[] = [];
      for (let i = 0; i < 30; i++) seqs.push(await publish(api));
      const headers = consumerHeaders(clientId, token);
      // pruned down to the newest ten, all but the newest ten being gone
      await eventually(async () => (await api.http.get(`/entities?since=${seqs[18]}`).set(headers)).status === 410, 15_000, 100, 'the oldest pruned');
      const kept = await api.http.get(`/entities?since=${seqs[19]}`).set(headers).expect(200);
      expect(kept.body.entities.map((entity: Frame) => entity.seq)).toEqual(seqs.slice(20));
    } finally {
      await api.close();
    }
  });
});

describe('GET /entities', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startGateway();
  });
  afterAll(async () => {
    await api.close();
  });

  it('reads the entities a socket in the same groups would have received, a page at a time', async () => {
    const consumer = await createConsumer(api, { groups: ['eu'] });
    const headers = consumerHeaders(consumer.clientId, consumer.token);
    const start = (await api.http.get('/entities?since=0&limit=1').set(headers)).body.last_seq as number;
    const { forEu } = await publishMix(api, 30);

    const pages: number[] = [];
    let since = start;
    for (let more = true; more;) {
      const page = await api.http.get(`/entities?since=${since}&limit=4`).set(headers).expect(200);
      expect(page.body.epoch).toMatch(/^[0-9a-f-]{36}$/);
      expect(page.body.entities.length).toBeLessThanOrEqual(4);
      for (const entity of page.body.entities) {
        expect(entity).toMatchObject({ type: 'entity', id: expect.any(String), data: { at: expect.any(Number) }, published_at: expect.any(String) });
        pages.push(entity.seq);
      }
      more = page.body.more;
      since = page.body.next_since;
    }
    expect(pages).toEqual(forEu);
    // a reader that has everything is told where to start next time
    const done = await api.http.get(`/entities?since=${since}`).set(headers).expect(200);
    expect(done.body).toMatchObject({ entities: [], more: false, next_since: since });
  });

  it('reads the groups asked for, if they are granted', async () => {
    const consumer = await createConsumer(api, { groups: ['eu', 'us'] });
    const headers = consumerHeaders(consumer.clientId, consumer.token);
    const since = (await api.http.get('/entities?since=0&limit=1').set(headers)).body.last_seq as number;
    const { forUs } = await publishMix(api, 9);
    const usOnly = await api.http.get(`/entities?since=${since}&groups=us`).set(headers).expect(200);
    expect(usOnly.body.entities.map((entity: Frame) => entity.seq)).toEqual(forUs);
    const refused = await api.http.get(`/entities?since=${since}&groups=apac`).set(headers).expect(403);
    expect(refused.body.message).toContain('apac');
  });

  it.each([
    ['', 'since is required'],
    ['?since=abc', 'since'],
    ['?since=1&limit=0', 'limit'],
    ['?since=1&limit=5000', 'limit'],
    ['?since=1&groups=bad%20group', 'groups'],
    ['?since=1&since=2', 'since'],
  ])('answers %s with 400', async (query, message) => {
    const consumer = await createConsumer(api);
    const answer = await api.http.get(`/entities${query}`).set(consumerHeaders(consumer.clientId, consumer.token)).expect(400);
    expect(answer.body.message).toContain(message);
  });

  it('refuses a missing or wrong token with 401', async () => {
    const consumer = await createConsumer(api);
    await api.http.get('/entities?since=0').expect(401);
    const wrong = await api.http
      .get('/entities?since=0')
      .set(consumerHeaders(consumer.clientId, `${consumer.token.slice(0, -1)}x`))
      .expect(401);
    expect(wrong.body.message).not.toContain(consumer.token);
  });

  it('answers epoch_changed for another epoch', async () => {
    const consumer = await createConsumer(api);
    const answer = await api.http
      .get('/entities?since=0&epoch=00000000-0000-4000-8000-000000000000')
      .set(consumerHeaders(consumer.clientId, consumer.token))
      .expect(409);
    expect(answer.body).toMatchObject({ error: 'epoch_changed', last_seq: expect.any(Number), epoch: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('is not part of the admin API: an admin token is no consumer token', async () => {
    await api.http.get('/entities?since=0').set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(401);
  });
});
