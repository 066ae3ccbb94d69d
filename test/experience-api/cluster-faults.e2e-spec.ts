import type { ParsedMail } from 'mailparser';
import { Cluster, SOCKET_LEASE_TTL_MS } from '../support/cluster/cluster.js';
import { admin, ConnectedConsumer, createConsumer, deliveryProblems } from '../support/cluster/consumers.js';
import type { ExperienceApiProcess } from '../support/cluster/experience-api-process.js';
import { type Accepted, EntityStream, type PostAnswer, postEntity } from '../support/cluster/publishing.js';
import { redisServerInstalled } from '../support/cluster/redis-server.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';

const available =
  serviceAvailable(`Postgres at ${new URL(localPostgresUrl).host}`, await postgresAnswers(localPostgresUrl)) &&
  serviceAvailable('redis-server (the binary, to run a Redis of the suite its own)', redisServerInstalled());

// Three experience-api processes in cluster mode on a Redis of this suite's own (a redis-server on a spare port, which
// the tests stop and start again) and a fresh Postgres database; one instance or the bus fails while entities flow.
(available ? describe : describe.skip)('a cluster of three instances when an instance or the bus fails', () => {
  const cluster = Cluster.use({ name: 'cluster_faults', redis: 'own' });
  let run = 0;
  const idPrefix = (what: string) => `${what}-${Date.now().toString(36)}-${run++}-`;

  // whatever a test did to it, the next starts on a whole cluster: the bus up, every instance running and healthy
  beforeEach(async () => {
    if (!cluster.redis.running) await cluster.redis.start();
    await cluster.restartStopped();
    for (const instance of cluster.instances) await eventually(async () => (await health(instance)).status === 200, 20_000, 100, `${instance.name} healthy`);
  }, 60_000);

  /** The value of `push_gateway_redis_up` in the instance's /metrics. */
  async function redisUp(instance: ExperienceApiProcess): Promise<number | undefined> {
    const text = await (await fetch(`${instance.httpUrl}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith('push_gateway_redis_up '));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  }

  async function health(instance: ExperienceApiProcess): Promise<{ status: number; body: string }> {
    try {
      const response = await fetch(`${instance.httpUrl}/health`, { signal: AbortSignal.timeout(3_000) });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      return { status: 0, body: (error as Error).message };
    }
  }

  async function consumersOn(instances: ExperienceApiProcess[], perInstance: number): Promise<ConnectedConsumer[]> {
    const consumers: ConnectedConsumer[] = [];
    for (const instance of instances) {
      for (let i = 0; i < perInstance; i++) consumers.push(cluster.track(await ConnectedConsumer.open(instance, await createConsumer(instance))));
    }
    return consumers;
  }

  /** Waits until every consumer has every accepted entity, then lists what is wrong with what each received. */
  async function problemsOf(consumers: ConnectedConsumer[], prefix: string, accepted: Accepted[], allowOthers = false): Promise<string[][]> {
    const ids = new Set(accepted.map((entity) => entity.id));
    const complete = (consumer: ConnectedConsumer) => consumer.of(prefix).filter((entity) => ids.has(entity.id)).length >= ids.size;
    // what is missing after that is reported below
    await eventually(() => consumers.every(complete), 30_000, 50, `every consumer receiving ${ids.size} entities`).catch(() => undefined);
    // entities arrive in seq order: once a later one is in, a repeat of any earlier one would have come before it
    const marker = `${prefix}marker`;
    const running = cluster.instances.filter((instance) => instance.running);
    const answer = await postEntity(running[0], { id: marker, data: 'marker' });
    if (answer.status !== 202) throw new Error(`the marker was not accepted: ${answer.status} ${JSON.stringify(answer.body)}`);
    await eventually(() => consumers.every((consumer) => consumer.count(marker) > 0), 10_000, 20, `every consumer receiving ${marker}`).catch(() => undefined);
    return consumers
      .map((consumer) => [
        consumer.toString(),
        ...(consumer.count(marker) === 0 ? [`did not receive ${marker}, posted after all the others`] : []),
        ...deliveryProblems(
          consumer.of(prefix).filter((entity) => entity.id !== marker),
          accepted,
          allowOthers,
        ),
      ])
      .filter((row) => row.length > 1);
  }

  it(
    'SIGKILL of one instance mid-stream: its consumers reconnect elsewhere within the lease, the others notice nothing',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const prefix = idPrefix('kill');
      const onA = await consumersOn([a], 2);
      const others = await consumersOn([b, c], 2);
      // the back end posts to the instances that stay up
      const stream = new EntityStream(prefix, () => [b, c], 4);
      stream.start();
      try {
        await eventually(() => stream.accepted.length >= 50, 20_000, 20, 'entities accepted before the kill');

        const killed = await a.kill();
        expect(killed.signal).toBe('SIGKILL');
        for (const consumer of onA) await consumer.closedByServer();

        // the dead instance's lease holds its clients for up to SOCKET_LEASE_TTL: 409 until then (and a little more on a loaded machine)
        const reconnected = await Promise.all(
          onA.map(async (consumer, n) => cluster.track(await ConnectedConsumer.openWhenFree([b, c][n % 2], consumer.credentials, SOCKET_LEASE_TTL_MS + 4_000))),
        );

        const since = Math.max(...reconnected.map((consumer) => consumer.connectedAt));
        await eventually(
          () => stream.accepted.filter((entity) => entity.postedAt > since).length >= 50,
          20_000,
          20,
          'entities accepted after the reconnections',
        );
        await stream.stop();

        expect(others.filter((consumer) => !consumer.open).map(String)).toEqual([]);
        expect(await problemsOf(others, prefix, stream.accepted)).toEqual([]);
        // the reconnected consumers receive, in order, whatever was posted once they were back
        const afterwards = stream.accepted.filter((entity) => entity.postedAt > since);
        for (const consumer of reconnected) {
          const received = consumer.of(prefix).filter((entity) => !entity.id.endsWith('marker'));
          expect([consumer.toString(), deliveryProblems(received, afterwards, true)]).toEqual([consumer.toString(), []]);
        }
      } finally {
        await stream.stop();
      }
    }),
  );

  it(
    'Redis stopped mid-stream: sockets stay open, POST /entity 503 with Retry-After, health 503 naming redis, an alert; back: all resumes, resolved, nothing accepted is lost',
    cluster.logs(async () => {
      const prefix = idPrefix('bus');
      const consumers = await consumersOn(cluster.instances, 2);
      const stream = new EntityStream(prefix, () => cluster.instances, 3, 10);
      const probes: Accepted[] = [];
      /** The error code of each instance's 503, checked last (see the end of the test). */
      const refusedWith: Array<[string, string | undefined]> = [];
      stream.start();
      try {
        await eventually(() => stream.accepted.length >= 60, 20_000, 20, 'entities accepted before the loss');

        await cluster.redis.stop();
        const pingsBefore = consumers.map((consumer) => consumer.pings);

        for (const instance of cluster.instances) {
          let refused: PostAnswer | undefined;
          let n = 0;
          await eventually(
            async () => {
              const id = `${prefix}probe-${instance.name.slice(-1)}-${n++}`;
              const postedAt = Date.now();
              refused = await postEntity(instance, { id, data: 'during the loss' }, 3_000).catch(() => undefined);
              if (refused?.status === 202) probes.push({ id, seq: refused.body.seq!, instance: instance.name, postedAt });
              return refused?.status === 503;
            },
            15_000,
            100,
            `POST /entity on ${instance.name} answering 503`,
          );
          refusedWith.push([instance.name, refused!.body.error]);
          expect([instance.name, refused!.retryAfter]).toEqual([instance.name, expect.stringMatching(/^[1-9][0-9]*$/)]);

          let checked = { status: 0, body: '' };
          await eventually(async () => (checked = await health(instance)).status === 503, 10_000, 100, `GET /health on ${instance.name} answering 503`);
          expect([instance.name, checked.body]).toEqual([instance.name, expect.stringMatching(/redis/i)]);
          expect(JSON.parse(checked.body)).toMatchObject({ status: 'error' });
          expect([instance.name, await redisUp(instance)]).toEqual([instance.name, 0]);
        }
        // what must reach every instance is refused before anything changes
        const [a] = cluster.instances;
        const held = consumers[0].credentials.clientId;
        const grantsBefore = (await a.http.get(`/admin/clients/${held}`).set(admin).expect(200)).body.groups;
        await a.http
          .patch(`/admin/clients/${held}`)
          .set(admin)
          .send({ groups: ['narrowed'] })
          .expect(503);
        await a.http.delete(`/admin/clients/${held}`).set(admin).expect(503);
        expect((await a.http.get(`/admin/clients/${held}`).set(admin).expect(200)).body.groups).toEqual(grantsBefore);
        await eventually(() => cluster.smtp.mails.some(isBusAlert), 20_000, 100, 'an alert mail about the cluster bus');
        expect(cluster.smtp.mails.find(isBusAlert)!.text).toContain('severity: critical');
        // the heartbeat goes on without the bus: every consumer is pinged (and answers) while it is away
        await eventually(() => consumers.every((consumer, n) => consumer.pings > pingsBefore[n]), 10_000, 50, 'a ping to every consumer while Redis is away');
        expect(consumers.filter((consumer) => !consumer.open).map(String)).toEqual([]);

        await cluster.redis.start();
        const back = Date.now();

        // the bus resubscribes by itself: each instance accepts again, and every consumer receives what each accepts
        for (const instance of cluster.instances) {
          let n = 0;
          await eventually(
            async () => {
              const id = `${prefix}back-${instance.name.slice(-1)}-${n++}`;
              const postedAt = Date.now();
              const answer = await postEntity(instance, { id, data: 'after the loss' }, 3_000).catch(() => undefined);
              if (answer?.status === 202) probes.push({ id, seq: answer.body.seq!, instance: instance.name, postedAt });
              return answer?.status === 202;
            },
            20_000,
            100,
            `POST /entity on ${instance.name} answering 202 again`,
          );
        }
        await eventually(() => stream.accepted.filter((entity) => entity.postedAt > back).length >= 30, 20_000, 20, 'entities accepted after the loss');
        await stream.stop();
        await eventually(() => cluster.smtp.mails.some(isBusResolved), 20_000, 100, 'a "resolved" mail about the cluster bus');

        expect(consumers.filter((consumer) => !consumer.open).map(String)).toEqual([]);
        // posts in flight at the loss that got no 202 may or may not have been delivered; every 202 must be, once, in order
        expect(await problemsOf(consumers, prefix, [...stream.accepted, ...probes], true)).toEqual([]);
        for (const instance of cluster.instances) expect([instance.name, (await health(instance)).status]).toEqual([instance.name, 200]);
        for (const instance of cluster.instances) expect([instance.name, await redisUp(instance)]).toEqual([instance.name, 1]);

        expect(refusedWith).toEqual(cluster.instances.map((instance) => [instance.name, 'service_unavailable']));
      } finally {
        await stream.stop();
      }
    }),
  );

  it(
    'SIGTERM of one instance: its consumers are closed with 1012 and reconnect elsewhere at once, and it exits 0',
    cluster.logs(async () => {
      const [a, b, c] = cluster.instances;
      const prefix = idPrefix('term');
      const onC = await consumersOn([c], 2);
      const others = await consumersOn([a, b], 1);

      const exit = c.stop();
      const reconnected: ConnectedConsumer[] = [];
      await Promise.all(
        onC.map(async (consumer, n) => {
          const closed = await consumer.closedByServer();
          expect([consumer.toString(), closed.code]).toEqual([consumer.toString(), 1012]);
          // no retry: the lease went with the socket
          reconnected.push(cluster.track(await ConnectedConsumer.open([a, b][n % 2], consumer.credentials)));
        }),
      );

      const answer = await postEntity(a, { id: `${prefix}after`, data: 'after the restart' });
      expect(answer.status).toBe(202);
      for (const consumer of [...reconnected, ...others]) await consumer.received(`${prefix}after`);
      expect(others.filter((consumer) => !consumer.open).map(String)).toEqual([]);

      expect(await exit).toEqual({ code: 0, signal: null });
    }),
  );
});

const busPattern = /redis|cluster.?bus/i;

/** The mail an instance sends when it loses the cluster bus. */
function isBusAlert(mail: ParsedMail): boolean {
  const subject = mail.subject ?? '';
  return subject.startsWith('[experience-api] ') && !subject.startsWith('[experience-api] resolved: ') && busPattern.test(`${subject}\n${mail.text ?? ''}`);
}

/** The mail an instance sends when it has the cluster bus back. */
function isBusResolved(mail: ParsedMail): boolean {
  const subject = mail.subject ?? '';
  return subject.startsWith('[experience-api] resolved: ') && busPattern.test(subject);
}
