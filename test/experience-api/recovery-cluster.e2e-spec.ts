import { Cluster, SOCKET_LEASE_TTL_MS } from '../support/cluster/cluster.js';
import { createConsumer, deliveryProblems } from '../support/cluster/consumers.js';
import type { ExperienceApiProcess } from '../support/cluster/experience-api-process.js';
import { EntityStream } from '../support/cluster/publishing.js';
import { publishAccepted, publishMix, RecoveringConsumer } from '../support/cluster/recovering-consumer.js';
import { redisServerInstalled } from '../support/cluster/redis-server.js';
import { consumerHeaders } from '../support/net/ws-client.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';

const available =
  serviceAvailable(`Postgres at ${new URL(localPostgresUrl).host}`, await postgresAnswers(localPostgresUrl)) &&
  serviceAvailable('redis-server (the binary, to run a Redis of the suite its own)', redisServerInstalled());

// Two experience-api processes in cluster mode on a Redis of this suite's own and a fresh Postgres database: a consumer
// that stopped on one instance comes back on the other and is given exactly what it missed, once, in seq order. Once
// with the default in-memory tail, once with a tail of 5 entities, so that almost all of a gap is read from Postgres.
(available ? describe.each : describe.skip.each)([
  ['from the in-memory tail', 'recovery_cluster_memory', {}],
  ['beyond the in-memory tail, from Postgres', 'recovery_cluster_database', { HISTORY_CACHE_ENTITIES: '5' }],
])('recovery by seq across a cluster of two instances, %s', (_, name, env: Record<string, string>) => {
  const cluster = Cluster.use({ name, redis: 'own', size: 2, env });
  const consumers: RecoveringConsumer[] = [];
  let run = 0;

  /** A consumer closed after the test, whatever it did. */
  const track = (consumer: RecoveringConsumer) => (consumers.push(consumer), consumer);

  // a test may kill an instance: the next starts on a whole cluster
  beforeEach(async () => {
    await cluster.restartStopped();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.close()));
  });

  /** Waits until `instance` has read the entity stream through `seq` (its `GET /entities` says so in last_seq). */
  async function readThrough(instance: ExperienceApiProcess, consumer: RecoveringConsumer, seq: number): Promise<void> {
    const headers = consumerHeaders(consumer.credentials.clientId, consumer.credentials.token);
    await eventually(
      async () => ((await instance.http.get('/entities?since=0&limit=1').set(headers)).body.last_seq as number) >= seq,
      10_000,
      20,
      `${instance.name} reading the stream through seq ${seq}`,
    );
  }

  /**
   * What is wrong with the seqs received on one connection, compared with those owed after where it stopped: the
   * first `missed` received that are not the first `missed` owed (the replay), owed ones missing, ones received twice
   * or not owed, ones out of order. Empty when all is well.
   */
  function seqProblems(received: number[], owed: number[], missed: number): string[] {
    const problems: string[] = [];
    const replayed = received.slice(0, missed);
    if (replayed.join() !== owed.slice(0, missed).join()) {
      problems.push(
        `replayed ${missed}: ${replayed.filter((seq) => !owed.slice(0, missed).includes(seq)).join(',')} in place of ${owed
          .slice(0, missed)
          .filter((seq) => !replayed.includes(seq))
          .join(',')}`,
      );
    }
    const missing = owed.filter((seq) => !received.includes(seq));
    if (missing.length > 0) problems.push(`never received ${missing.join(',')}`);
    const twice = received.filter((seq, i) => received.indexOf(seq) !== i);
    if (twice.length > 0) problems.push(`received twice ${twice.join(',')}`);
    const others = received.filter((seq) => !owed.includes(seq));
    if (others.length > 0) problems.push(`received but not owed ${others.join(',')}`);
    const disordered = received.filter((seq, i) => i > 0 && seq <= received[i - 1]);
    if (disordered.length > 0) problems.push(`out of seq order ${disordered.join(',')}`);
    return problems;
  }

  /** Seqs in ascending order, without repeats. */
  const ascending = (...lists: number[][]) => [...new Set(lists.flat())].sort((x, y) => x - y);

  it(
    'every instance welcomes with the same epoch, and GET /entities on each names it too',
    cluster.logs(async () => {
      const epochs: string[] = [];
      for (const instance of cluster.instances) {
        const consumer = track(new RecoveringConsumer(await createConsumer(instance)));
        const welcome = await consumer.connect(instance);
        expect(welcome).toMatchObject({ last_seq: expect.any(Number), epoch: expect.stringMatching(/^[0-9a-f-]{36}$/) });
        expect(welcome).not.toHaveProperty('recovered');
        epochs.push(welcome.epoch);
        const headers = consumerHeaders(consumer.credentials.clientId, consumer.credentials.token);
        for (const other of cluster.instances) epochs.push((await other.http.get('/entities?since=0&limit=1').set(headers).expect(200)).body.epoch);
      }
      expect(new Set(epochs).size).toBe(1);
    }),
  );

  it(
    'a consumer that stopped on a and comes back on b is told exactly how many it missed, and given those, in seq order, then the live stream',
    cluster.logs(async () => {
      const [a, b] = cluster.instances;
      const consumer = track(new RecoveringConsumer(await createConsumer(a, { groups: ['eu'] })));
      const first = await consumer.connect(a);
      const before = [await publishAccepted(a, { groups: ['eu'], data: 'before' }), await publishAccepted(b, { data: 'before' })];
      await consumer.takeThrough(before[1]);
      await consumer.disconnect();

      // published through a and b in turn, a third of it to a group the consumer is not in
      const gap = await publishMix([a, b], 150);
      await readThrough(b, consumer, gap.all[gap.all.length - 1]);
      const welcome = await consumer.connect(b);
      expect(welcome).toMatchObject({ recovered: true, missed: gap.forEu.length, epoch: first.epoch });
      expect(welcome.last_seq).toBe(gap.all[gap.all.length - 1]);
      const sentinel = await publishAccepted(a, { data: 'sentinel' });
      await consumer.takeThrough(sentinel);

      expect(consumer.seqs).toEqual([...before, ...gap.forEu, sentinel]);
      expect(consumer.pending).toBe(0);
    }),
  );

  it(
    'reconnecting on the other instance while entities are published through both: none missing, none twice, in seq order, raced many times',
    cluster.logs(async () => {
      const [a, b] = cluster.instances;
      const consumer = track(new RecoveringConsumer(await createConsumer(a, { groups: ['eu'] })));
      await consumer.connect(a);
      const owed: number[] = [];
      const rounds: string[] = [];
      for (let round = 0; round < 10; round++) {
        const [from, to] = round % 2 === 0 ? [a, b] : [b, a];
        const stoppedAt = consumer.lastSeq;
        await consumer.disconnect();
        const gap = await publishMix([from, to], 40);
        owed.push(...gap.forEu);
        // publishes land before, during and after the reconnect and its replay, 30 in flight through both instances
        const racing = publishMix([to, from], 90, 30);
        const welcome = await consumer.connect(to);
        const live = await racing;
        owed.push(...live.forEu);
        expect([round, welcome.recovered, welcome.epoch]).toEqual([round, true, consumer.welcomes[0].welcome.epoch]);
        // at least the quiet gap, at most that and everything published during the reconnect
        expect(welcome.missed).toBeGreaterThanOrEqual(gap.forEu.length);
        expect(welcome.missed).toBeLessThanOrEqual(gap.forEu.length + live.forEu.length);
        const sentinel = await publishAccepted(from, { groups: ['eu'], data: { round } });
        owed.push(sentinel);
        await consumer.takeThrough(sentinel);
        const received = consumer.seqs.slice(consumer.welcomes[consumer.welcomes.length - 1].at);
        const problems = seqProblems(
          received,
          ascending(owed).filter((seq) => seq > stoppedAt),
          welcome.missed!,
        );
        if (problems.length > 0) {
          // whether what never came is in the history by now (read through the same instance)
          const since = Math.min(...ascending(owed).filter((seq) => seq > stoppedAt && !received.includes(seq))) - 1;
          const headers = consumerHeaders(consumer.credentials.clientId, consumer.credentials.token);
          const page = await to.http.get(`/entities?since=${Number.isFinite(since) ? since : stoppedAt}&limit=1000`).set(headers);
          const inHistory = (page.body.entities ?? []).map((entity: { seq: number }) => entity.seq).filter((seq: number) => !received.includes(seq));
          problems.push(`GET /entities on ${to.name} now has, of those not received: ${inHistory.join(',') || 'none'}`);
          rounds.push(`round ${round}, ${from.name} → ${to.name}, stopped at ${stoppedAt}, welcome ${JSON.stringify(welcome)}: ${problems.join('; ')}`);
        }
      }
      expect(rounds).toEqual([]);
      expect(consumer.seqs).toEqual(ascending(owed));
      expect(consumer.pending).toBe(0);
    }),
    90_000,
  );

  it(
    'SIGKILL of the instance a consumer is on: it comes back on the other with its last seq and has every accepted entity once, in seq order',
    cluster.logs(async () => {
      const [a, b] = cluster.instances;
      const consumer = track(new RecoveringConsumer(await createConsumer(a)));
      const first = await consumer.connect(a);
      const prefix = `kill-${Date.now().toString(36)}-${run++}-`;
      // a back end posting through b at a steady pace
      const stream = new EntityStream(prefix, () => [b], 2, 10);
      stream.start();
      try {
        await eventually(() => stream.accepted.length >= 40, 20_000, 20, 'entities accepted before the kill');
        expect((await a.kill()).signal).toBe('SIGKILL');
        await consumer.drainClosed();
        const stoppedAt = consumer.lastSeq;

        // a's lease on the client runs out within SOCKET_LEASE_TTL: 409 until then
        const welcome = await consumer.connect(b, { conflictTimeoutMs: SOCKET_LEASE_TTL_MS + 7_000 });
        expect(welcome).toMatchObject({ recovered: true, epoch: first.epoch });
        const back = Date.now();
        await eventually(() => stream.accepted.filter((entity) => entity.postedAt > back).length >= 40, 20_000, 20, 'entities accepted after the reconnect');
        await stream.stop();
        const sentinel = await publishAccepted(b, { id: `${prefix}sentinel`, data: 'sentinel' });
        await consumer.takeThrough(sentinel);

        const accepted = stream.inSeqOrder();
        const owed = [...accepted.map((entity) => entity.seq), sentinel];
        const described = `stopped at ${stoppedAt} on a; welcome on b ${JSON.stringify(welcome)}; refused 409 ${consumer.conflicts} times; ${stream.describe()}`;
        expect([described, deliveryProblems(consumer.entities, [...accepted, { id: `${prefix}sentinel`, seq: sentinel }])]).toEqual([described, []]);
        expect(consumer.seqs).toEqual(owed);
        expect(consumer.pending).toBe(0);
        // every post through b was accepted: b stayed up
        expect(stream.outcomes.get(202)).toBe(accepted.length);
        expect([...stream.outcomes.keys()]).toEqual([202]);

        // a comes back in the same history
        await cluster.restartStopped();
        const again = track(new RecoveringConsumer(await createConsumer(a)));
        expect((await again.connect(a)).epoch).toBe(first.epoch);
      } finally {
        await stream.stop();
      }
    }),
    60_000,
  );
});
