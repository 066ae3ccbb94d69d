import { FreshDatabase } from '../support/cluster/fresh-database.js';
import { FeedServer } from '../support/net/feed-server.js';
import { ADMIN_TOKEN, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const available = serviceAvailable('Postgres', await postgresAnswers(localPostgresUrl));

interface Described {
  socket_id: string;
  state: string;
  owner: string | null;
}

/**
 * Two instances on one Postgres (a database of the suite's own), as replicas
 * share one: each outbound socket is held open by exactly one of them, and
 * the other takes it over when its holder stops.
 */
(available ? describe : describe.skip)('outbound sockets held by one instance of several', () => {
  let database: FreshDatabase;
  let a: RunningExperienceApi | undefined;
  let b: RunningExperienceApi;
  let feed: FeedServer;

  const start = (instanceId: string) => startExperienceApi({ DATABASE_URL: database.url, INSTANCE_ID: instanceId, SOCKET_LEASE_TTL: '3s' });

  beforeAll(async () => {
    database = await FreshDatabase.create(localPostgresUrl, 'outbound_cluster');
    a = await start('outbound-a');
    b = await start('outbound-b');
  });
  beforeEach(async () => {
    feed = await FeedServer.start();
  });
  afterEach(async () => {
    await feed.stop();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database.drop();
  });

  async function described(on: RunningExperienceApi, socketId: string): Promise<Described | undefined> {
    const answer = await on.http.get(`/admin/outbound-sockets/${socketId}`).set(admin);
    return answer.status === 200 ? answer.body : undefined;
  }

  it('opens a socket once, on the instance that created it; the other lists it with its owner and state, and can delete it', async () => {
    const created = await a!.http.post('/admin/outbound-sockets').set(admin).send({ url: feed.url, socket_id: 'held-once' }).expect(201);
    await eventually(async () => (await described(b, 'held-once'))?.state === 'open');

    expect(await described(b, 'held-once')).toMatchObject({ socket_id: created.body.socket_id, owner: 'outbound-a', state: 'open' });
    expect(feed.connections).toHaveLength(1);
    await b.http.post('/admin/outbound-sockets').set(admin).send({ url: feed.url, socket_id: 'held-once' }).expect(409);

    // B does not hold it: A stops it at its next renewal, when the row is gone
    await b.http.delete('/admin/outbound-sockets/held-once').set(admin).expect(204);
    await eventually(() => feed.latest?.closed !== undefined, 10_000);
    expect(feed.latest!.closed!.code).toBe(1000);
    expect(await described(a!, 'held-once')).toBeUndefined();
    expect(feed.connections).toHaveLength(1);
  });

  it('is taken over by another instance when its holder stops', async () => {
    await a!.http.post('/admin/outbound-sockets').set(admin).send({ url: feed.url, socket_id: 'taken-over' }).expect(201);
    await eventually(() => feed.open === 1);

    await a!.close();
    a = undefined;

    await eventually(async () => (await described(b, 'taken-over'))?.owner === 'outbound-b' && feed.open === 1, 10_000, 50, 'taken over by B');
    expect(feed.connections).toHaveLength(2);
    expect(feed.connections[0].closed).toEqual({ code: 1001, reason: 'going away' });
    await eventually(async () => (await described(b, 'taken-over'))?.state === 'open');
    await b.http.delete('/admin/outbound-sockets/taken-over').set(admin).expect(204);
  });
});
