import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { serviceAvailable } from '../support/processes/services.js';
import { FeedServer } from '../support/net/feed-server.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { eventually } from '../support/time/eventually.js';

// examples/java: PushGatewayClient (the reusable class), PushConsumer (a program on it) and OutboundRelay, compiled as the README says
const EXAMPLES = fileURLToPath(new URL('../../examples/java/', import.meta.url));
const SOURCES = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.java'))
  .map((name) => join(EXAMPLES, name));

function javacIs17OrLater(): boolean {
  try {
    const version = execFileSync('javac', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return Number(/javac (\d+)/.exec(version)?.[1] ?? 0) >= 17;
  } catch {
    return false;
  }
}

interface JavaRun {
  readonly lines: string[];
  readonly errorLines: string[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `pattern`, or rejects when the program exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The same for stderr, where PushConsumer says what happens to the connection. */
  waitForErrorLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Reconnect delays without jitter: the client stays away for the whole second, long enough to publish what it will miss. */
const STEADY_BACKOFF = { PUSH_RECONNECT_INITIAL_MS: '1000', PUSH_RECONNECT_JITTER: 'false' };

const available = serviceAvailable('java 17 (javac)', javacIs17OrLater());
const describeWithJava = available ? describe : describe.skip;

describeWithJava('the documented Java consumer (JDK HttpClient and WebSocket only)', () => {
  let api: RunningExperienceApi;
  let classes: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    classes = mkdtempSync(join(tmpdir(), 'push-java-'));
    execFileSync('javac', ['-Xlint:all', '-Werror', '-d', classes, ...SOURCES], { stdio: 'pipe' });
  });
  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (classes) rmSync(classes, { recursive: true, force: true });
  });

  async function createClient(groups?: string[]): Promise<{ clientId: string; clientSecret: string }> {
    const clientId = uniqueClientId('java');
    const created = await api.http
      .post('/admin/clients')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ client_id: clientId, ...(groups ? { groups } : {}) })
      .expect(201);
    return { clientId, clientSecret: created.body.client_secret };
  }

  function runJava(args: string[], env: Record<string, string> = {}, program = 'PushConsumer'): JavaRun {
    const child = spawn('java', ['-cp', classes, program, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: string[] = [];
    const errorLines: string[] = [];
    const watchers: Array<(line: string) => void> = [];
    const errorWatchers: Array<(line: string) => void> = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const watcher of [...watchers]) watcher(line);
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stderr }).on('line', (line) => {
      errorLines.push(line);
      for (const watcher of [...errorWatchers]) watcher(line);
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const waitFor = (seen: string[], waiting: Array<(line: string) => void>, pattern: RegExp, timeoutMs: number): Promise<string> => {
      const found = seen.find((line) => pattern.test(line));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const watcher = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          waiting.splice(waiting.indexOf(watcher), 1);
          resolve(line);
        };
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiting.push(watcher);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`java exited with ${code} before printing a line matching ${pattern}; stderr: ${stderr}`));
        });
      });
    };
    return {
      lines,
      errorLines,
      stderr: () => stderr,
      exited,
      waitForLine: (pattern, timeoutMs = 15_000) => waitFor(lines, watchers, pattern, timeoutMs),
      waitForErrorLine: (pattern, timeoutMs = 15_000) => waitFor(errorLines, errorWatchers, pattern, timeoutMs),
    };
  }

  async function publish(count: number, step: string): Promise<number[]> {
    const seqs: number[] = [];
    for (let index = 0; index < count; index++) seqs.push((await api.http.post('/entity').send({ data: { step, index } }).expect(202)).body.seq);
    return seqs;
  }

  async function closeSocket(socketId: string, code: number, reason: string): Promise<void> {
    await api.http.delete(`/admin/sockets/${socketId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ code, reason }).expect(204);
  }

  const entitySeqs = (java: JavaRun): number[] =>
    java.lines
      .map((line) => JSON.parse(line))
      .filter((frame) => frame.type === 'entity')
      .map((frame) => frame.seq);
  const welcomes = (java: JavaRun) => java.lines.map((line) => JSON.parse(line)).filter((frame) => frame.type === 'welcome');
  const states = (java: JavaRun): string[] => java.errorLines.filter((line) => line.startsWith('state: ')).map((line) => line.slice('state: '.length));

  // one gateway at a time: in-process gateways on embedded PGlite share its database
  describe('against a gateway', () => {
    beforeAll(async () => {
      api = await startExperienceApi();
    });
    afterAll(async () => {
      await api?.close();
    });

    it('registers, is welcomed, prints every published entity as one line and exits 0', async () => {
      const { clientId, clientSecret } = await createClient();
      const java = runJava([api.httpUrl, clientId, clientSecret, '3']);

      const welcome = JSON.parse(await java.waitForLine(/"type":"welcome"/));
      expect(welcome).toEqual({
        type: 'welcome',
        socket_id: expect.any(String),
        client_id: clientId,
        groups: [],
        last_seq: expect.any(Number),
        epoch: expect.any(String),
      });

      // far larger than one WebSocket read, so the JDK hands the frame over in parts the program must join
      const large = 'x'.repeat(300_000);
      const bodies = [
        { id: `java-order-${clientId}`, data: { order: 7, lines: ['a', 'b'] } },
        { data: 'ünïcödé "quoted"\nsecond line' },
        { data: { blob: large } },
      ];
      const published = [];
      for (const body of bodies) published.push((await api.http.post('/entity').send(body).expect(202)).body);

      expect(await java.exited).toBe(0);
      const entities = java.lines.map((line) => JSON.parse(line)).filter((frame) => frame.type === 'entity');
      expect(entities.map((frame) => [frame.id, frame.seq, frame.data])).toEqual(published.map((answer, index) => [answer.id, answer.seq, bodies[index].data]));
      expect(published[0].id).toBe(`java-order-${clientId}`);
      expect(java.lines).toHaveLength(1 + bodies.length);
    });

    it('reconnects after a drop with last_seq and epoch headers, and is replayed exactly what it missed, in order', async () => {
      const { clientId, clientSecret } = await createClient();
      const java = runJava([api.httpUrl, clientId, clientSecret, '4'], STEADY_BACKOFF);
      const welcome = JSON.parse(await java.waitForLine(/"type":"welcome"/));
      const before = (
        await api.http
          .post('/entity')
          .send({ data: { step: 'before' } })
          .expect(202)
      ).body;
      await java.waitForLine(new RegExp(`"seq":${before.seq},`));

      // an operator closes its socket with a code that asks for a reconnect; it backs off a second
      await api.http
        .delete(`/admin/sockets/${welcome.socket_id}`)
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .send({ code: 4000, reason: 'come back' })
        .expect(204);
      const missed = [];
      for (const step of [1, 2])
        missed.push(
          (
            await api.http
              .post('/entity')
              .send({ data: { missed: step } })
              .expect(202)
          ).body,
        );
      const again = JSON.parse(await java.waitForLine(new RegExp(`"type":"welcome"(?!.*${welcome.socket_id})`)));
      expect(again).toMatchObject({ client_id: clientId, epoch: welcome.epoch, recovered: true, missed: 2 });
      await java.waitForLine(new RegExp(`"seq":${missed[1].seq},`));
      const live = (
        await api.http
          .post('/entity')
          .send({ data: { step: 'live' } })
          .expect(202)
      ).body;

      expect(await java.exited).toBe(0);
      const entities = java.lines.map((line) => JSON.parse(line)).filter((frame) => frame.type === 'entity');
      expect(entities.map((frame) => frame.seq)).toEqual([before, ...missed, live].map((answer) => answer.seq));
      expect(java.stderr()).toMatch(/closed by the server with 4000 come back/);
      expect(java.stderr()).toMatch(/recovered; missed: 2, replayed next/);
    });

    it('sets up an outbound relay: the consumer receives what the feed sends, in order; the relay is then deleted', async () => {
      const group = `prices-${Date.now().toString(36)}`;
      const feed = await FeedServer.start();
      try {
        const { clientId, clientSecret } = await createClient([group]);
        const relay = runJava([api.httpUrl, ADMIN_TOKEN, feed.url, group], {}, 'OutboundRelay');
        const socketId = (await relay.waitForLine(/^relaying /)).slice('relaying '.length);
        expect(await relay.exited).toBe(0);
        const consumer = runJava([api.httpUrl, clientId, clientSecret, '2']);
        await consumer.waitForLine(/"type":"welcome"/);

        feed.send('{"symbol":"ACME","price":100.25}');
        feed.send('{"symbol":"ACME","price":100.5}');

        expect(await consumer.exited).toBe(0);
        const entities = consumer.lines.map((line) => JSON.parse(line)).filter((frame) => frame.type === 'entity');
        expect(entities.map((frame) => [frame.groups, frame.data])).toEqual([
          [[group], { symbol: 'ACME', price: 100.25 }],
          [[group], { symbol: 'ACME', price: 100.5 }],
        ]);
        expect(entities[1].seq).toBeGreaterThan(entities[0].seq);
        const deleter = runJava([api.httpUrl, ADMIN_TOKEN, '--delete', socketId], {}, 'OutboundRelay');
        expect(await deleter.exited).toBe(0);
        await eventually(() => feed.latest?.closed !== undefined);
        expect(feed.latest!.closed?.code).toBe(1000);
      } finally {
        await feed.stop();
      }
    });

    it('PushGatewayClient comes back after each close of its socket and is replayed exactly what it missed: in order, none twice', async () => {
      const { clientId, clientSecret } = await createClient();
      const java = runJava([api.httpUrl, clientId, clientSecret, '8'], STEADY_BACKOFF);
      const first = JSON.parse(await java.waitForLine(/"type":"welcome"/));
      const before = await publish(2, 'before');
      await java.waitForLine(new RegExp(`"seq":${before[1]},`));

      await closeSocket(first.socket_id, 4000, 'first drop');
      await java.waitForErrorLine(/^connection lost: closed by the server with 4000 first drop; reconnecting in 1000 ms$/);
      const away1 = await publish(3, 'away 1');
      const second = JSON.parse(await java.waitForLine(new RegExp(`"type":"welcome"(?!.*${first.socket_id})`)));
      expect(second).toMatchObject({ epoch: first.epoch, recovered: true, missed: 3 });
      await java.waitForLine(new RegExp(`"seq":${away1[2]},`));

      await closeSocket(second.socket_id, 4001, 'second drop');
      // the welcome reset the backoff: a second again, not two
      await java.waitForErrorLine(/^connection lost: closed by the server with 4001 second drop; reconnecting in 1000 ms$/);
      const away2 = await publish(2, 'away 2');
      const third = JSON.parse(await java.waitForLine(new RegExp(`"type":"welcome"(?!.*(${first.socket_id}|${second.socket_id}))`)));
      expect(third).toMatchObject({ epoch: first.epoch, recovered: true, missed: 2 });
      await java.waitForLine(new RegExp(`"seq":${away2[1]},`));
      const live = await publish(1, 'live');

      expect(await java.exited).toBe(0);
      expect(entitySeqs(java)).toEqual([...before, ...away1, ...away2, ...live]);
      expect(welcomes(java)).toHaveLength(3);
      expect(java.lines).toHaveLength(3 + 8);
      expect(java.errorLines.filter((line) => line.startsWith('recovered; '))).toEqual([
        'recovered; missed: 3, replayed next',
        'recovered; missed: 2, replayed next',
      ]);
      expect(states(java)).toEqual(['registering', 'connecting', 'open', 'waiting', 'connecting', 'open', 'waiting', 'connecting', 'open', 'stopped']);
    });

    it('PushGatewayClient registers again when its token was rotated elsewhere (401), reconnects and recovers', async () => {
      const { clientId, clientSecret } = await createClient();
      const java = runJava([api.httpUrl, clientId, clientSecret, '2'], STEADY_BACKOFF);
      const welcome = JSON.parse(await java.waitForLine(/"type":"welcome"/));

      // registered again elsewhere: the Java client's token is dead; its open socket lives on until closed
      const rotated = (await api.http.post('/consumers').set('client_id', clientId).set('client_secret', clientSecret).expect(201)).body.token;
      await closeSocket(welcome.socket_id, 4000, 'come back');
      await java.waitForErrorLine(/^connection lost: closed by the server with 4000 come back/);
      const missed = await publish(2, 'missed');
      await java.waitForErrorLine(/^could not connect: refused with HTTP 401$/);
      const again = JSON.parse(await java.waitForLine(new RegExp(`"type":"welcome"(?!.*${welcome.socket_id})`)));
      expect(again).toMatchObject({ client_id: clientId, epoch: welcome.epoch, recovered: true, missed: 2 });

      expect(await java.exited).toBe(0);
      expect(entitySeqs(java)).toEqual(missed);
      // a refusal, then at once a registration and a connection, not a backoff
      expect(states(java)).toEqual(['registering', 'connecting', 'open', 'waiting', 'connecting', 'waiting', 'registering', 'connecting', 'open', 'stopped']);
      expect(java.errorLines.filter((line) => line.startsWith('could not connect'))).toEqual(['could not connect: refused with HTTP 401']);
      // the Java client's registration rotated the token in turn: the one taken in between is dead now
      expect(await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, rotated) })).toMatchObject({ status: 401 });
    });

    it('PushGatewayClient stops for good, and says why, when its client is deleted (1008): no retry', async () => {
      const { clientId, clientSecret } = await createClient();
      const java = runJava([api.httpUrl, clientId, clientSecret], { PUSH_RECONNECT_INITIAL_MS: '10' });
      await java.waitForLine(/"type":"welcome"/);

      await api.http.delete(`/admin/clients/${clientId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(204);

      expect(await java.exited).toBe(4);
      expect(java.errorLines).toContain('connection lost: closed by the server with 1008 client deleted');
      expect(java.errorLines).toContain('stopped: closed by the server with 1008 client deleted');
      expect(states(java)).toEqual(['registering', 'connecting', 'open', 'stopped']);
      expect(java.lines).toHaveLength(1);
    });

    it('PushGatewayClient stops for good on a refusal retrying cannot fix (403, a group not granted): no retry', async () => {
      const { clientId, clientSecret } = await createClient(['orders']);
      const java = runJava([api.httpUrl, clientId, clientSecret, '1'], { PUSH_GROUPS: 'billing', PUSH_RECONNECT_INITIAL_MS: '10' });

      expect(await java.exited).toBe(4);
      expect(java.errorLines).toContain('could not connect: refused with HTTP 403');
      expect(java.errorLines).toContain('stopped: refused with HTTP 403');
      expect(states(java)).toEqual(['registering', 'connecting', 'stopped']);
      expect(java.lines).toEqual([]);
    });

    it('exits non-zero and says why when the client secret is wrong', async () => {
      const { clientId } = await createClient();
      const java = runJava([api.httpUrl, clientId, 'not-the-secret-0123456789', '1']);

      expect(await java.exited).toBe(3);
      expect(java.stderr()).toMatch(/registration failed: HTTP 401/);
      expect(java.lines).toEqual([]);
    });

    it('exits non-zero when the expected entities do not arrive in time', async () => {
      const { clientId, clientSecret } = await createClient();
      const java = runJava([], {
        PUSH_BASE_URL: api.httpUrl,
        PUSH_CLIENT_ID: clientId,
        PUSH_CLIENT_SECRET: clientSecret,
        PUSH_EXPECTED_ENTITIES: '1',
        PUSH_TIMEOUT_SECONDS: '2',
      });

      await java.waitForLine(/"type":"welcome"/);
      expect(await java.exited).toBe(1);
      expect(java.stderr()).toMatch(/timed out after 2 s with 0 of 1 entities/);
    });
  });

  describe('against a gateway that allows one handshake a second per address', () => {
    beforeAll(async () => {
      api = await startExperienceApi({ HANDSHAKE_RATE_PER_SECOND: '1', HANDSHAKE_BURST: '1' });
    });
    afterAll(async () => {
      await api?.close();
    });

    it('PushGatewayClient waits the Retry-After of a 429 before it tries again, however short its own backoff', async () => {
      // no handshake in reserve: the test takes each one as it comes until the client is refused once
      const { clientId, clientSecret } = await createClient();
      const java = runJava([api.httpUrl, clientId, clientSecret, '1'], { PUSH_RECONNECT_INITIAL_MS: '10', PUSH_RECONNECT_MAX_MS: '10' });
      const refusals = () => java.errorLines.filter((line) => /^could not connect: refused with HTTP 429/.test(line));
      await eventually(
        async () => {
          await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders('nobody', 'x'.repeat(43)) });
          return refusals().length > 0;
        },
        15_000,
        20,
        'a 429 refusal of the Java client',
      );
      expect(refusals()[0]).toBe('could not connect: refused with HTTP 429 (Retry-After: 1 s)');
      await java.waitForLine(/"type":"welcome"/);
      // with its own 10 ms backoff it would have been refused again and again in that second
      expect(refusals().length).toBeLessThanOrEqual(2);
      const entity = (await api.http.post('/entity').send({ data: 'after the wait' }).expect(202)).body;
      expect(await java.exited).toBe(0);
      expect(entitySeqs(java)).toEqual([entity.seq]);
    });
  });
});
