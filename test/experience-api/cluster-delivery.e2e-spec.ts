import { Cluster } from '../support/cluster/cluster.js';
import { admin, ConnectedConsumer, createConsumer, deliveryProblems, refusal, registerAgain } from '../support/cluster/consumers.js';
import type { ExperienceApiProcess } from '../support/cluster/experience-api-process.js';
import { type Accepted, type PostAnswer, postEntity } from '../support/cluster/publishing.js';
import { localPostgresUrl, localRedisUrl, postgresAnswers, redisAnswers, serviceAvailable } from '../support/processes/services.js';
import { FeedServer } from '../support/net/feed-server.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';

const available =
  serviceAvailable(`Postgres at ${new URL(localPostgresUrl).host}`, await postgresAnswers(localPostgresUrl)) &&
  serviceAvailable(`Redis at ${new URL(localRedisUrl).host}`, await redisAnswers(localRedisUrl));

// Three experience-api processes in cluster mode, as replicas behind a load balancer: one Redis (the machine's, under a key
// prefix of this suite's own), one fresh Postgres database. What one instance is asked, every instance's consumers see.
(available ? describe : describe.skip)('a cluster of three instances delivers as one', () => {
  const cluster = Cluster.use({ name: 'cluster_delivery', redis: { url: localRedisUrl } });
  let run = 0;
  /** Entity ids of one test: no other test's entity starts with it. */
  const idPrefix = (what: string) => `${what}-${Date.now().toString(36)}-${run++}-`;

  /** `perInstance` consumers connected to each instance. */
  async function consumersOnEvery(perInstance: number): Promise<ConnectedConsumer[]> {
    const consumers: ConnectedConsumer[] = [];
    for (const instance of cluster.instances) {
      for (let i = 0; i < perInstance; i++) consumers.push(cluster.track(await ConnectedConsumer.open(instance, await createConsumer(instance))));
    }
    return consumers;
  }

  async function accepted(instance: ExperienceApiProcess, entity: { id: string; groups?: string[]; data: unknown }): Promise<PostAnswer> {
    const answer = await postEntity(instance, entity);
    if (answer.status !== 202) throw new Error(`POST /entity ${entity.id} on ${instance.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  }

  it(
    'consumers on every instance receive each of 1,000 entities posted round-robin to the three, once and in seq order',
    cluster.logs(async () => {
      const consumers = await consumersOnEvery(2);
      const prefix = idPrefix('spread');
      const total = 1_000;
      const answers: Accepted[] = [];
      const refused: string[] = [];

      // a back end posting with 8 requests in flight, each to the next instance in turn
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < total) {
            const n = next++;
            const instance = cluster.instances[n % cluster.instances.length];
            const postedAt = Date.now();
            const answer = await postEntity(instance, { id: `${prefix}${n}`, data: { n } });
            if (answer.status === 202) answers.push({ id: `${prefix}${n}`, seq: answer.body.seq!, instance: instance.name, postedAt });
            else refused.push(`${prefix}${n} on ${instance.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
          }
        }),
      );
      expect(refused).toEqual([]);
      expect(new Set(answers.map((answer) => answer.seq)).size).toBe(total);

      await Promise.all(
        consumers.map((consumer) => expectExactly(total, () => consumer.of(prefix).length, { timeoutMs: 30_000, describe: () => consumer.toString() })),
      );
      const problems = consumers.map((consumer) => [consumer.toString(), deliveryProblems(consumer.of(prefix), answers)]);
      expect(problems.filter(([, found]) => found.length > 0)).toEqual([]);
      expect(consumers.every((consumer) => consumer.open)).toBe(true);
    }),
  );

  it(
    'delivers an id posted to two instances once, and answers both with the same seq: one 202, one 200 duplicate',
    cluster.logs(async () => {
      const consumers = await consumersOnEvery(1);
      const prefix = idPrefix('twice');
      const [a, b, c] = cluster.instances;

      // at the same time, on two instances, five times over
      const pairs = [
        [a, b],
        [b, c],
        [c, a],
        [a, c],
        [b, a],
      ];
      const together = await Promise.all(
        pairs.map(async ([first, second], n) => {
          const id = `${prefix}together-${n}`;
          return { id, answers: await Promise.all([postEntity(first, { id, data: n }), postEntity(second, { id, data: n })]) };
        }),
      );
      for (const { id, answers } of together) {
        expect(answers.map((answer) => answer.status).sort()).toEqual([200, 202]);
        const original = answers.find((answer) => answer.status === 202)!;
        expect(original.body).toEqual({ id, seq: expect.any(Number) });
        expect(answers.find((answer) => answer.status === 200)!.body).toEqual({ id, seq: original.body.seq, duplicate: true });
      }

      // one after the other
      const id = `${prefix}in-turn`;
      const first = await accepted(b, { id, data: 'first' });
      const again = await postEntity(c, { id, data: 'again' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ id, seq: first.body.seq, duplicate: true });

      // entities arrive in seq order: once a later one is in, a repeat of any of the above would have come before it
      const later = `${prefix}later`;
      await accepted(a, { id: later, data: 'later' });
      for (const consumer of consumers) {
        await consumer.received(later);
        for (const entity of [...together.map((posted) => posted.id), id])
          expect([consumer.toString(), entity, consumer.count(entity)]).toEqual([consumer.toString(), entity, 1]);
      }
    }),
  );

  it(
    'closes a socket by id from any instance: 204 on A for a socket on B, whose consumer sees the close; 404 for a socket no instance has',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const onB = cluster.track(await ConnectedConsumer.open(b, await createConsumer(b)));
      const onC = cluster.track(await ConnectedConsumer.open(c, await createConsumer(c)));

      await a.http.delete(`/admin/sockets/${onB.welcome.socket_id}`).set(admin).expect(204);
      // a close frame from the server, not a dropped connection
      expect((await onB.closedByServer()).code).not.toBe(1006);

      await b.http.delete(`/admin/sockets/${onC.welcome.socket_id}`).set(admin).send({ code: 4000, reason: 'closed by the operator' }).expect(204);
      expect(await onC.closedByServer()).toEqual({ code: 4000, reason: 'closed by the operator' });

      const unknown = await a.http.delete('/admin/sockets/9b2f6a6e-0c1d-4e7a-8f00-000000000000').set(admin).expect(404);
      expect(unknown.body).toMatchObject({ error: 'not_found' });
      // and a socket already closed is no longer anywhere
      await c.http.delete(`/admin/sockets/${onB.welcome.socket_id}`).set(admin).expect(404);
    }),
  );

  it(
    'lists, looks up, messages, regroups, broadcasts to and bulk-closes from A a socket held by B',
    cluster.logs(async () => {
      const [a, b] = cluster.instances;
      const prefix = idPrefix('operations');
      const [home, extra] = [`${prefix}home`, `${prefix}extra`];
      const consumer = await createConsumer(a, { groups: [home, extra] });
      const onB = cluster.track(await ConnectedConsumer.open(b, consumer));
      const socketId = onB.welcome.socket_id;

      const listed = await a.http.get(`/admin/sockets?client_id=${consumer.clientId}`).set(admin).expect(200);
      expect(listed.body).toEqual({ sockets: [expect.objectContaining({ socket_id: socketId, type: 'inbound', client_id: consumer.clientId })], next: null });
      const one = await a.http.get(`/admin/sockets/${socketId}`).set(admin).expect(200);
      expect([...one.body.groups].sort()).toEqual([extra, home].sort());

      await a.http
        .delete(`/admin/sockets/${socketId}/groups`)
        .set(admin)
        .send({ groups: [extra] })
        .expect(200, { groups: [home] });
      await a.http
        .post(`/admin/sockets/${socketId}/groups`)
        .set(admin)
        .send({ groups: [extra] })
        .expect(200, { groups: [home, extra] });
      await a.http
        .post(`/admin/sockets/${socketId}/groups`)
        .set(admin)
        .send({ groups: ['not-granted'] })
        .expect(403);

      await a.http
        .post(`/admin/sockets/${socketId}/messages`)
        .set(admin)
        .send({ data: { to: 'one' } })
        .expect(202);
      const told = await a.http
        .post('/admin/broadcast')
        .set(admin)
        .send({ data: 'to the group', groups: [extra] })
        .expect(200);
      expect(told.body).toEqual({ recipients: 1, failures: [] });
      await expectExactly(2, () => onB.messages.length, { describe: () => onB.toString() });
      expect(onB.messages).toEqual([{ to: 'one' }, 'to the group']);

      const closed = await a.http.post('/admin/sockets/close').set(admin).send({ client_id: consumer.clientId, code: 4002, reason: 'bulk' }).expect(200);
      expect(closed.body).toEqual({ closed: 1 });
      expect(await onB.closedByServer()).toEqual({ code: 4002, reason: 'bulk' });
    }),
  );

  it(
    'operates from B and C an outbound socket A holds: listed, messaged, relayed to consumers everywhere, and deleted for good',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const prefix = idPrefix('outbound');
      const group = `${prefix}relayed`;
      const feed = await FeedServer.start();
      try {
        const consumers = [
          cluster.track(await ConnectedConsumer.open(b, await createConsumer(b, { groups: [group] }))),
          cluster.track(await ConnectedConsumer.open(c, await createConsumer(c, { groups: [group] }))),
        ];
        const created = await a.http
          .post('/admin/outbound-sockets')
          .set(admin)
          .send({ url: feed.url, relay_to_groups: [group], reconnect: { initial_delay: '100ms', max_delay: '100ms', attempts: 100 } })
          .expect(201);
        const socketId = created.body.socket_id as string;
        await eventually(() => feed.open === 1, 10_000, 20, 'the feed connected to');
        const received: string[] = [];
        feed.latest!.socket.on('message', (data) => received.push(data.toString()));

        const listed = await b.http.get(`/admin/sockets?type=outbound`).set(admin).expect(200);
        expect(listed.body.sockets).toEqual([expect.objectContaining({ socket_id: socketId, type: 'outbound', state: 'open' })]);
        await c.http
          .post(`/admin/sockets/${socketId}/messages`)
          .set(admin)
          .send({ data: { subscribe: 'prices' } })
          .expect(202);
        await eventually(() => received.length === 1, 10_000, 20, 'the message at the feed');
        expect(received).toEqual(['{"subscribe":"prices"}']);
        feed.send(JSON.stringify({ price: 1 }));
        feed.send(JSON.stringify({ price: 2 }));
        for (const consumer of consumers) await expectExactly(2, () => consumer.entities.length, { describe: () => consumer.toString() });
        for (const consumer of consumers) expect(consumer.entities.map((entity) => entity.data)).toEqual([{ price: 1 }, { price: 2 }]);

        await b.http.delete(`/admin/sockets/${socketId}`).set(admin).send({ code: 4000, reason: 'enough' }).expect(204);

        await eventually(() => feed.latest?.closed !== undefined, 10_000, 20, 'the feed seeing the close');
        expect(feed.latest!.closed).toEqual({ code: 4000, reason: 'enough' });
        await a.http.get(`/admin/outbound-sockets/${socketId}`).set(admin).expect(404);
        // held by nobody and stored nowhere: no instance opens it again
        for (const instance of cluster.instances) await instance.http.get(`/admin/sockets/${socketId}`).set(admin).expect(404);
        expect(feed.connections).toHaveLength(1);
      } finally {
        await feed.stop();
      }
    }),
  );

  it(
    'deletes a client on A: its socket on B is closed and its token is refused at once on every instance',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const consumer = await createConsumer(a);
      // every instance has accepted the token once, so none may answer from what it remembers
      for (const instance of [a, c]) await (await ConnectedConsumer.openWhenFree(instance, consumer)).close();
      const onB = cluster.track(await ConnectedConsumer.openWhenFree(b, consumer));

      await a.http.delete(`/admin/clients/${consumer.clientId}`).set(admin).expect(204);

      expect(await onB.closedByServer()).toEqual({ code: 1008, reason: 'client deleted' });
      for (const instance of cluster.instances) expect([instance.name, (await refusal(instance, consumer)).status]).toEqual([instance.name, 401]);
    }),
  );

  it(
    'rotates a token on A: the old one is refused at once on B and C, the new one is accepted there',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const old = await createConsumer(a);
      // B and C have accepted the old token, so they would answer from their cache if nothing told them
      for (const instance of [b, c]) await (await ConnectedConsumer.openWhenFree(instance, old)).close();

      const rotated = await registerAgain(a, old);

      for (const instance of [b, c]) {
        const refused = await refusal(instance, old);
        expect([instance.name, refused.status, refused.body.error]).toEqual([instance.name, 401, 'unauthorized']);
      }
      for (const instance of [b, c]) {
        const connected = await ConnectedConsumer.openWhenFree(instance, rotated);
        expect(connected.welcome.client_id).toBe(old.clientId);
        await connected.close();
      }
    }),
  );

  it(
    'refuses a second connection of a client connected on A, on B and C, with 409 before the upgrade',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const consumer = await createConsumer(a);
      const onA = cluster.track(await ConnectedConsumer.open(a, consumer));

      for (const instance of [b, c]) {
        // an HTTP answer instead of 101: the upgrade never happened
        const refused = await refusal(instance, consumer);
        expect([instance.name, refused.status, refused.body]).toEqual([
          instance.name,
          409,
          { error: 'conflict', message: 'this client already has an open connection' },
        ]);
      }
      expect(onA.open).toBe(true);
    }),
  );

  it(
    "narrows a client's grants on A: its socket on B leaves the group at once, stays open and keeps the groups still granted",
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const prefix = idPrefix('grants');
      const [kept, dropped] = [`${prefix}kept`, `${prefix}dropped`];
      const consumer = await createConsumer(a, { groups: [kept, dropped] });
      const onB = cluster.track(await ConnectedConsumer.open(b, consumer));
      expect([...onB.welcome.groups].sort()).toEqual([dropped, kept].sort());
      await accepted(c, { id: `${prefix}before`, groups: [dropped], data: 'before' });
      await onB.received(`${prefix}before`);

      const patched = await a.http
        .patch(`/admin/clients/${consumer.clientId}`)
        .set(admin)
        .send({ groups: [kept] })
        .expect(200);
      expect(patched.body.groups).toEqual([kept]);

      await accepted(c, { id: `${prefix}after-dropped`, groups: [dropped], data: 'not for B any more' });
      await accepted(c, { id: `${prefix}after-kept`, groups: [kept], data: 'still for B' });
      // in seq order: once the later entity is in, the one before it would have come
      await onB.received(`${prefix}after-kept`);
      expect(onB.count(`${prefix}after-dropped`)).toBe(0);
      expect(onB.open).toBe(true);
    }),
  );
});
