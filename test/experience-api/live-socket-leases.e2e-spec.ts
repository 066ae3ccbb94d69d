import { DataSource } from 'typeorm';
import { eventually } from '../support/time/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

// Two instances sharing one database, as several experience-api processes share one Postgres.
describe('one connection per client across instances', () => {
  let a: RunningExperienceApi;
  let b: RunningExperienceApi;

  beforeAll(async () => {
    // two instances on one database, as replicas share one Postgres: on PGlite, one in-memory database of this process
    const shared = { SOCKET_LEASE_TTL: '3s', PGLITE_DATA_DIR: `memory://leases-${process.pid}` };
    a = await startExperienceApi(shared);
    b = await startExperienceApi(shared);
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  const open = (api: RunningExperienceApi, clientId: string, token: string) =>
    TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, token) });
  const refusal = (api: RunningExperienceApi, clientId: string, token: string) =>
    TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, token) });

  it('refuses on one instance a client already connected to the other, with 409', async () => {
    const consumer = await createConsumer(a);
    const onA = await open(a, consumer.clientId, consumer.token);
    await onA.next();

    expect((await refusal(b, consumer.clientId, consumer.token)).status).toBe(409);

    await onA.close();
    // A releases the claim as its socket closes; B may be asked before that write lands, and answers 409 until it has
    let onB: TestSocket | undefined;
    await eventually(async () => {
      onB = await open(b, consumer.clientId, consumer.token).catch((error: { status?: number }) => {
        if (error.status === 409) return undefined;
        throw error;
      });
      return onB !== undefined;
    }, 5_000);
    expect((await onB!.next()).type).toBe('welcome');
    await onB!.close();
  });

  it('lets exactly one of simultaneous handshakes on both instances win', async () => {
    const consumer = await createConsumer(a);
    const attempts = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => open(i % 2 === 0 ? a : b, consumer.clientId, consumer.token)));
    const opened = attempts.filter((r): r is PromiseFulfilledResult<TestSocket> => r.status === 'fulfilled');
    expect(opened).toHaveLength(1);
    expect(attempts.filter((r) => r.status === 'rejected').map((r) => r.reason.status)).toEqual(Array(9).fill(409));
    await opened[0].value.close();
  });

  const leaseOf = async (clientId: string): Promise<{ instance_id: string; lease_expires_at: Date }> =>
    (await a.app.get(DataSource).query('SELECT instance_id, lease_expires_at FROM live_sockets WHERE client_id = $1', [clientId]))[0];

  it('keeps renewing the lease of a live connection, so it holds past the lease period', async () => {
    const consumer = await createConsumer(a);
    const onA = await open(a, consumer.clientId, consumer.token);
    await onA.next();
    const first = await leaseOf(consumer.clientId);

    // renewed twice: past the end of the lease it was given at connection
    let renewed = first;
    await eventually(async () => {
      renewed = await leaseOf(consumer.clientId);
      return renewed.lease_expires_at.getTime() > first.lease_expires_at.getTime() + 1_000;
    }, 10_000);
    expect(renewed.instance_id).toBe(first.instance_id);
    expect((await refusal(b, consumer.clientId, consumer.token)).status).toBe(409);
    await onA.close();
  });

  it('frees a client held by an instance that died once its lease runs out', async () => {
    const consumer = await createConsumer(a);
    // what a crashed instance leaves behind: a claim nobody renews
    await a.app.get(DataSource).query(
      `INSERT INTO live_sockets (client_id, socket_id, instance_id, connected_at, lease_expires_at)
       VALUES ($1, 'socket-of-a-dead-instance', 'crashed-instance', now(), now() + interval '3 seconds')`,
      [consumer.clientId],
    );
    expect((await refusal(b, consumer.clientId, consumer.token)).status).toBe(409);

    // the lease runs out: back-dated rather than waited for
    await a.app.get(DataSource).query(`UPDATE live_sockets SET lease_expires_at = now() - interval '1 second' WHERE client_id = $1`, [consumer.clientId]);
    const onB = await open(b, consumer.clientId, consumer.token);
    expect((await onB.next()).type).toBe('welcome');
    await onB.close();
  });

  it('deduplicates entity ids across instances', async () => {
    const id = `cluster-${Date.now()}`;
    const first = await a.http.post('/entity').send({ id, data: 1 }).expect(202);
    await b.http.post('/entity').send({ id, data: 1 }).expect(200, { id, seq: first.body.seq, duplicate: true });
    const next = await b.http.post('/entity').send({ data: 2 }).expect(202);
    expect(next.body.seq).toBeGreaterThan(first.body.seq);
  });
});
