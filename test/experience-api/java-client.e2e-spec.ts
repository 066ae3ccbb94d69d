import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { serviceAvailable } from '../support/processes/services.js';
import { FeedServer } from '../support/net/feed-server.js';
import { eventually } from '../support/time/eventually.js';

const SOURCES = ['PushConsumer', 'OutboundRelay'].map((name) => fileURLToPath(new URL(`../clients/java/${name}.java`, import.meta.url)));

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
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `pattern`, or rejects when the program exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

const available = serviceAvailable('java 17 (javac)', javacIs17OrLater());
const describeWithJava = available ? describe : describe.skip;

describeWithJava('the documented Java consumer (JDK HttpClient and WebSocket only)', () => {
  let api: RunningExperienceApi;
  let classes: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    classes = mkdtempSync(join(tmpdir(), 'push-java-'));
    execFileSync('javac', ['-Xlint:all', '-Werror', '-d', classes, ...SOURCES], { stdio: 'pipe' });
    api = await startExperienceApi();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await api?.close();
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
    const watchers: Array<(line: string) => void> = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      for (const watcher of [...watchers]) watcher(line);
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    return {
      lines,
      stderr: () => stderr,
      exited,
      waitForLine(pattern, timeoutMs = 15_000) {
        const seen = lines.find((line) => pattern.test(line));
        if (seen !== undefined) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const watcher = (line: string) => {
            if (!pattern.test(line)) return;
            clearTimeout(timer);
            watchers.splice(watchers.indexOf(watcher), 1);
            resolve(line);
          };
          const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
          watchers.push(watcher);
          void exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`java exited with ${code} before printing a line matching ${pattern}; stderr: ${stderr}`));
          });
        });
      },
    };
  }

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
    const java = runJava([api.httpUrl, clientId, clientSecret, '4']);
    const welcome = JSON.parse(await java.waitForLine(/"type":"welcome"/));
    const before = (
      await api.http
        .post('/entity')
        .send({ data: { step: 'before' } })
        .expect(202)
    ).body;
    await java.waitForLine(new RegExp(`"seq":${before.seq},`));

    // an operator closes its socket with a code that asks for a reconnect; it backs off at least half a second
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
