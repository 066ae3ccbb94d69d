import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { freePort } from '../support/net/free-port.js';
import { Pipeline } from '../support/pipeline/pipeline.js';
import { databaseUrl, serviceAvailable } from '../support/processes/services.js';
import type { SystemApiProcess } from '../support/processes/system-api.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';

// Faults system-api must survive, each against real components: an upstream that
// stays down past its retries, and malformed items among good ones. The other
// faults are in faults-outage (experience-api away for 30 s),
// faults-crash (SIGKILL mid-batch) and faults-cluster (two
// instances), separate files so that jest runs them in parallel.

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

async function rabbitAnswers(): Promise<boolean> {
  try {
    const connection = await amqp.connect(AMQP_URL, { timeout: 2_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}
const rabbit = serviceAvailable(`RabbitMQ at ${new URL(AMQP_URL).host}`, await rabbitAnswers());

/** Source names unique to this run: on Postgres the outbox, leases and experience-api's idempotency log outlive a run. */
const run = `${Date.now().toString(36)}-${process.pid}`;

/** A local upstream HTTP API whose behaviour the test switches. */
class Upstream {
  hits = 0;
  private server?: Server;

  constructor(
    readonly port: number,
    public handler: (request: IncomingMessage, response: ServerResponse) => void,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/items`;
  }

  async listen(): Promise<void> {
    this.server = createServer((request, response) => {
      this.hits++;
      this.handler(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', resolve);
    });
  }

  async close(): Promise<void> {
    if (!this.server?.listening) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function metric(system: SystemApiProcess, name: string, source: string): Promise<number> {
  const text = await (await fetch(`${await system.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{source="${source}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function sourceStatus(system: SystemApiProcess, name: string): Promise<{ state: string; last_error: string | null }> {
  const status = (await system.health()).sources.find((source) => source.name === name);
  if (!status) throw new Error(`source ${name} is not in /health`);
  return status;
}

describe('system-api faults: upstreams that fail and items that do not fit', () => {
  const flaky = `flaky-${run}`;
  const mixed = `mixed-${run}`;
  const queued = `queued-${run}`;
  const queue = `system-faults-${run}`;
  let down: Upstream;
  let mixedUpstream: Upstream;
  let mixedServes: 'nothing' | 'items' = 'nothing';
  let rabbitConnection: ChannelModel | undefined;
  let rabbitChannel: Channel | undefined;

  beforeAll(async () => {
    // nothing listens on this port until the test says so
    down = new Upstream(await freePort(), (_request, response) => json(response, 503, { error: 'maintenance' }));
    mixedUpstream = new Upstream(await freePort(), (request, response) => {
      if (mixedServes === 'nothing') return json(response, 200, []);
      // an upstream that offers an ETag is asked conditionally and answers 304 while nothing changed
      if (request.headers['if-none-match'] === '"v1"') return void response.writeHead(304).end();
      json(
        response,
        200,
        [
          { ref: 'm-1', amount: '10' },
          { ref: 'm-2', amount: 'twelve' },
          { ref: 'm-3', amount: 3 },
        ],
        { ETag: '"v1"' },
      );
    });
    await mixedUpstream.listen();

    if (rabbit) {
      rabbitConnection = await amqp.connect(AMQP_URL);
      rabbitChannel = await rabbitConnection.createChannel();
      await rabbitChannel.assertQueue(queue, { durable: false });
    }
  });

  afterAll(async () => {
    await down?.close();
    await mixedUpstream?.close();
    if (rabbitChannel) await rabbitChannel.deleteQueue(queue).catch(() => undefined);
    await rabbitConnection?.close().catch(() => undefined);
  });

  const pipeline = Pipeline.use({
    name: 'system-faults',
    mail: true,
    env: (): Record<string, string> => (rabbit ? { AMQP_URL } : {}),
    sources: () => `
- name: ${flaky}
  type: http
  url: ${down.url}
  interval: 200ms
  timeout: 1s
  retry: { attempts: 3, initial_delay: 100ms, max_delay: 500ms }
  id: ref
- name: ${mixed}
  type: http
  url: ${mixedUpstream.url}
  interval: 200ms
  retry: { attempts: 3, initial_delay: 100ms, max_delay: 500ms }
  map: '{"id": ref, "data": {"ref": ref, "amount": $number(amount)}}'
${
  rabbit
    ? `- name: ${queued}
  type: amqp
  url_env: AMQP_URL
  queue: ${queue}
  retry: { attempts: 3, initial_delay: 100ms, max_delay: 500ms }
  id: ref
`
    : ''
}`,
  });
  const subjects = () => pipeline.subjects();

  it(
    'reports an upstream that stays down past its retries, alerts once, keeps probing, and resolves when it returns',
    pipeline.logs(async () => {
      const { system, received, smtp } = pipeline;
      const alert = `[system-api] source ${flaky} unreachable`;

      // port closed: after 3 attempts the source is down, with the reason, and on-call hears of it
      await eventually(async () => (await sourceStatus(system, flaky)).state === 'down', 10_000);
      expect((await sourceStatus(system, flaky)).last_error).toMatch(/ECONNREFUSED/);
      await eventually(() => subjects().includes(alert), 10_000);
      const mail = smtp.mails.find((m) => m.subject === alert)!;
      expect(mail.text).toContain(`source: ${flaky}`);
      expect(mail.text).toContain('attempts: 3');
      expect(system.log).toMatch(new RegExp(`\\[source ${flaky}\\].*unreachable after 3 attempts`));

      // the upstream answers, but 503: still down, still probed, and no second alert for the same outage
      await down.listen();
      await eventually(() => down.hits >= 3, 10_000);
      expect(await sourceStatus(system, flaky)).toMatchObject({ state: 'down', last_error: expect.stringMatching(/answered 503/) });
      expect(subjects().filter((s) => s === alert)).toHaveLength(1);

      // back for real: up again, a resolved mail, and its items arrive once each
      down.handler = (_request, response) => json(response, 200, [{ ref: 'u-1' }, { ref: 'u-2' }, { ref: 'u-3' }]);
      await eventually(async () => (await sourceStatus(system, flaky)).state === 'up', 10_000);
      await eventually(() => subjects().includes(`[system-api] resolved: ${alert.slice('[system-api] '.length)}`), 10_000);
      await eventually(() => received.ids(flaky).length === 3, 10_000);
      // it goes on polling the same answer; nothing is delivered twice
      const hits = down.hits;
      await eventually(() => down.hits >= hits + 4, 10_000);
      await expectExactly(3, () => received.frames(flaky));
      expect(received.ids(flaky)).toEqual([`${flaky}:u-1`, `${flaky}:u-2`, `${flaky}:u-3`]);
      expect(subjects().filter((s) => s === alert)).toHaveLength(1);
    }),
    60_000,
  );

  it(
    'sets aside an item its map cannot handle, logs and alerts it, and delivers the others of the same answer',
    pipeline.logs(async () => {
      const { system, received, smtp } = pipeline;
      const before = (await system.health()).outbox.dead_letters;
      const mailsBefore = smtp.mails.length;
      mixedServes = 'items';

      await eventually(() => received.ids(mixed).length === 2, 10_000);
      expect(received.ids(mixed)).toEqual([`${mixed}:m-1`, `${mixed}:m-3`]);
      await eventually(() => smtp.mails.slice(mailsBefore).some((m) => m.subject === '[system-api] malformed items set aside'), 10_000);
      const mail = smtp.mails.slice(mailsBefore).find((m) => m.subject === '[system-api] malformed items set aside')!;
      expect(mail.text).toContain(`source: ${mixed}`);
      expect(mail.text).toMatch(/reason: map failed on this item/);
      expect(system.log).toMatch(new RegExp(`\\[source ${mixed}\\].*malformed item set aside: map failed on this item`));

      // set aside once: the upstream's ETag spares the re-reading of an unchanged answer
      const hits = mixedUpstream.hits;
      await eventually(() => mixedUpstream.hits >= hits + 3, 10_000);
      expect(await metric(system, 'system_api_dead_letters_total', mixed)).toBe(1);
      const after = (await system.health()).outbox.dead_letters;
      // /health counts the whole database's dead letters; on Postgres other suites add theirs
      if (databaseUrl) expect(after).toBeGreaterThanOrEqual(before + 1);
      else expect(after).toBe(before + 1);
      expect(received.frames(mixed)).toBe(2);
    }),
    30_000,
  );

  (rabbit ? it : it.skip)(
    'acknowledges and sets aside a queue message that is not JSON, and delivers the messages around it',
    pipeline.logs(async () => {
      const { system, received, smtp } = pipeline;
      const mailsBefore = smtp.mails.length;
      await eventually(async () => (await sourceStatus(system, queued)).state === 'up', 10_000);
      rabbitChannel!.sendToQueue(queue, Buffer.from(JSON.stringify({ ref: 'q-1' })));
      rabbitChannel!.sendToQueue(queue, Buffer.from('<order id="q-2"/>'));
      rabbitChannel!.sendToQueue(queue, Buffer.from(JSON.stringify({ ref: 'q-3' })));

      await eventually(() => received.ids(queued).length === 2, 10_000);
      expect(received.ids(queued)).toEqual([`${queued}:q-1`, `${queued}:q-3`]);
      await eventually(async () => (await metric(system, 'system_api_dead_letters_total', queued)) === 1, 5_000);
      expect(system.log).toMatch(new RegExp(`\\[source ${queued}\\].*malformed item set aside: the message is not JSON`));
      // acknowledged: it does not come back
      await eventually(async () => (await rabbitChannel!.checkQueue(queue)).messageCount === 0, 5_000);
      // the first of a kind goes out at once; inside the fold window it joins a digest
      await eventually(() => smtp.mails.slice(mailsBefore).some((m) => /malformed items? set aside/.test(m.subject ?? '')), 10_000);
      const mail = smtp.mails.slice(mailsBefore).find((m) => /malformed items? set aside/.test(m.subject ?? ''))!;
      expect(mail.text).toContain(queued);
      expect(received.frames(queued)).toBe(2);
    }),
    30_000,
  );
});
