import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
import { eventually } from '../support/time/eventually.js';
import { MailCatcher } from '../support/mail/mail-catcher.js';
import { freePort } from '../support/net/free-port.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import { SystemApiProcess } from '../support/processes/system-api.js';
import { withLogs } from '../support/processes/with-logs.js';

// What an upstream can make system-api hold in memory: a 400 MB answer, an answer
// of 300,000 items, a feed that sends faster than items can be stored. The
// memory is system-api's own (its resident set, from /proc), and /health must
// keep answering meanwhile. experience-api plays no part: system-api forwards to
// a port nothing listens on, and items wait in its outbox.

const run = `${Date.now().toString(36)}-${process.pid}`;
const MiB = 1_048_576;

type Mode = { kind: 'empty' } | { kind: 'huge'; bytes: number } | { kind: 'items'; count: number };

/** An upstream HTTP API whose answer the test switches; a huge answer is generated as it is sent, honouring backpressure. */
class GeneratingUpstream {
  mode: Mode = { kind: 'empty' };
  /** Bytes of huge answers written to sockets, and how many of those answers were cut off by the client. */
  hugeBytesWritten = 0;
  hugeAnswersCut = 0;

  private constructor(private readonly server: Server) {
    server.on('request', (_request, response) => this.answer(response));
  }

  static async start(): Promise<GeneratingUpstream> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new GeneratingUpstream(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/items`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(response: ServerResponse): void {
    const mode = this.mode;
    if (mode.kind === 'empty') return void response.writeHead(200, { 'Content-Type': 'application/json' }).end('[]');
    if (mode.kind === 'items') {
      const items = Array.from({ length: mode.count }, (_, n) => `{"ref":"i-${n}"}`);
      return void response.writeHead(200, { 'Content-Type': 'application/json' }).end(`[${items.join(',')}]`);
    }
    // no Content-Length: the client learns the size only by reading
    response.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = Buffer.from(`${'{"ref":"filler-0000000000000000"},'.repeat(2_000)}`);
    let written = 0;
    let cut = false;
    response.on('close', () => {
      if (written < mode.bytes) {
        cut = true;
        this.hugeAnswersCut++;
      }
    });
    response.write('[');
    const pump = () => {
      while (!cut && written < mode.bytes) {
        written += chunk.length;
        this.hugeBytesWritten += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      if (!cut) response.end('{"ref":"last"}]');
    };
    pump();
  }
}

/** A feed that sends `count` messages of about 1 kB as fast as its socket takes them. */
class FloodingFeed {
  private readonly server: WebSocketServer;
  private readonly padding = 'x'.repeat(1_000);
  /** Most bytes waiting in the feed's socket at once: large when the reader stops reading. */
  mostBuffered = 0;
  sent = 0;
  /** While false, connections are refused. */
  accepting = true;

  private constructor(
    server: WebSocketServer,
    private readonly count: number,
  ) {
    this.server = server;
    server.on('connection', (socket) => {
      if (!this.accepting) return socket.terminate();
      void this.flood(socket);
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/feed`;
  }

  get messageBytes(): number {
    return this.message(0).length;
  }

  private message(n: number): string {
    return JSON.stringify({ ref: `w-${n}`, padding: this.padding });
  }

  static async start(port: number, count: number): Promise<FloodingFeed> {
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new FloodingFeed(server, count);
  }

  async stop(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async flood(socket: WebSocket): Promise<void> {
    while (this.sent < this.count && socket.readyState === socket.OPEN) {
      // like a well-behaved feed: it waits while its own socket is backed up
      if (socket.bufferedAmount > 4 * MiB) {
        this.mostBuffered = Math.max(this.mostBuffered, socket.bufferedAmount);
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      socket.send(this.message(this.sent));
      this.sent++;
    }
  }
}

/** Samples system-api's resident memory, how often /health answered and what it says a source holds unstored, until stopped. */
class Watch {
  mostRss = 0;
  healthChecks = 0;
  /** Source → the most items /health said were received and waiting to be stored. */
  readonly mostWaiting = new Map<string, number>();
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly system: SystemApiProcess) {
    this.done = Promise.all([this.sampleRss(), this.sampleHealth()]).then(() => undefined);
  }

  async stop(): Promise<this> {
    this.stopped = true;
    await this.done;
    return this;
  }

  private async sampleRss(): Promise<void> {
    while (!this.stopped) {
      this.mostRss = Math.max(this.mostRss, this.system.rssBytes());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private async sampleHealth(): Promise<void> {
    const url = `${await this.system.url}/health`;
    while (!this.stopped) {
      const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      const health = (await response.json()) as { sources: Array<{ name: string; waiting: number }> };
      for (const source of health.sources) this.mostWaiting.set(source.name, Math.max(this.mostWaiting.get(source.name) ?? 0, source.waiting));
      this.healthChecks++;
    }
  }
}

async function metric(system: SystemApiProcess, name: string, source: string): Promise<number> {
  const text = await (await fetch(`${await system.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{source="${source}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('system-api: what an upstream can make it hold', () => {
  const huge = `huge-${run}`;
  const many = `many-${run}`;
  let smtp: MailCatcher;
  let system: SystemApiProcess;
  let workDir: string;
  let hugeUpstream: GeneratingUpstream;
  let manyUpstream: GeneratingUpstream;

  const subjects = () => smtp.mails.map((mail) => mail.subject ?? '');
  const sourceOf = async (name: string) => (await system.health()).sources.find((source) => source.name === name)!;

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    hugeUpstream = await GeneratingUpstream.start();
    manyUpstream = await GeneratingUpstream.start();
    workDir = mkdtempSync(join(tmpdir(), 'system-faults-limits-'));
    const quick = 'retry: { attempts: 3, initial_delay: 100ms, max_delay: 300ms }';
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: `http://127.0.0.1:${await freePort()}`,
      env: { SMTP_URL: smtp.url(), ALERT_EMAIL_TO: 'oncall@example.test', ALERT_FOLD_WINDOW: '1s' },
      // max_body, max_items: the defaults (16MiB, 10000)
      sources: `
- name: ${huge}
  type: http
  url: ${hugeUpstream.url}
  interval: 200ms
  timeout: 60s
  ${quick}
  id: ref
- name: ${many}
  type: http
  url: ${manyUpstream.url}
  interval: 200ms
  ${quick}
  id: ref
`,
    });
    await system.start();
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
    await hugeUpstream?.stop();
    await manyUpstream?.stop();
    await smtp?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it(
    'stops reading a 400 MB answer past max_body, stores none of it, alerts once, and stays within its memory',
    withLogs(
      () => [system],
      async () => {
        const rssBefore = system.rssBytes();
        const watch = new Watch(system);
        hugeUpstream.mode = { kind: 'huge', bytes: 400 * MiB };

        await eventually(async () => /larger than max_body \(16MiB\)/.test((await sourceOf(huge)).last_error ?? ''), 30_000);
        await eventually(() => hugeUpstream.hugeAnswersCut >= 3, 30_000);
        hugeUpstream.mode = { kind: 'empty' };
        await watch.stop();

        // each answer was abandoned a little past 16 MiB, not read to its 400 MB
        expect(hugeUpstream.hugeBytesWritten / hugeUpstream.hugeAnswersCut).toBeLessThan(40 * MiB);
        expect(watch.mostRss - rssBefore).toBeLessThan(150 * MiB);
        expect(watch.healthChecks).toBeGreaterThan(0);
        expect(await metric(system, 'system_api_items_stored_total', huge)).toBe(0);
        await eventually(() => subjects().includes(`[system-api] source ${huge} blocked`), 10_000);
        expect(smtp.mails.find((m) => m.subject === `[system-api] source ${huge} blocked`)!.text).toMatch(
          /larger than max_body \(16MiB\); nothing of it was stored/,
        );
        expect(subjects().filter((s) => s === `[system-api] source ${huge} blocked`)).toHaveLength(1);
      },
    ),
    60_000,
  );

  it(
    'refuses an answer of 300,000 items whole, and stays responsive; an answer of 10,000 is stored in full, in chunks',
    withLogs(
      () => [system],
      async () => {
        let watch = new Watch(system);
        const rssBefore = system.rssBytes();
        manyUpstream.mode = { kind: 'items', count: 300_000 };

        await eventually(async () => /holds 300000 items, more than max_items \(10000\)/.test((await sourceOf(many)).last_error ?? ''), 30_000);
        const failures = await metric(system, 'system_api_source_failures_total', many);
        await eventually(async () => (await metric(system, 'system_api_source_failures_total', many)) >= failures + 2, 10_000);
        await watch.stop();
        expect(await metric(system, 'system_api_items_stored_total', many)).toBe(0);
        expect(watch.mostRss - rssBefore).toBeLessThan(300 * MiB);
        expect(watch.healthChecks).toBeGreaterThan(0);
        await eventually(() => subjects().includes(`[system-api] source ${many} blocked`), 10_000);
        expect(smtp.mails.find((m) => m.subject === `[system-api] source ${many} blocked`)!.text).toMatch(/more than max_items \(10000\)/);

        // at the cap: every item is stored, /health answering between chunks; the block is resolved
        watch = new Watch(system);
        manyUpstream.mode = { kind: 'items', count: 10_000 };
        await eventually(async () => (await metric(system, 'system_api_items_stored_total', many)) === 10_000, 30_000);
        await watch.stop();
        expect(watch.healthChecks).toBeGreaterThan(0);
        expect(await sourceOf(many)).toMatchObject({ state: 'up' });
        await eventually(() => subjects().includes(`[system-api] resolved: source ${many} blocked`), 10_000);
      },
    ),
    60_000,
  );
});

// Reading must not outrun storing. On embedded PGlite the database runs on the
// event loop, so storing holds reading back by itself; on Postgres it does not,
// and that is where a fast feed piled up in memory. So this runs system-api on
// the machine's Postgres, and the test holds the store up with a row lock: an
// uncommitted row with the id of the feed's first item, which system-api's
// insert must wait for.
const postgresUp = serviceAvailable(`Postgres at ${new URL(localPostgresUrl).host}`, await postgresAnswers(localPostgresUrl));

(postgresUp ? describe : describe.skip)('system-api: a websocket feed faster than the outbox', () => {
  const feed = `feed-${run}`;
  const MESSAGES = 20_000;
  const MAX_PENDING = 200;
  let system: SystemApiProcess;
  let workDir: string;
  let flood: FloodingFeed;
  let blocker: pg.Client;

  beforeAll(async () => {
    flood = await FloodingFeed.start(await freePort(), MESSAGES);
    workDir = mkdtempSync(join(tmpdir(), 'system-faults-feed-'));
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: `http://127.0.0.1:${await freePort()}`,
      env: { DATABASE_URL: localPostgresUrl },
      sources: `
- name: ${feed}
  type: websocket
  url: ${flood.url}
  max_pending: ${MAX_PENDING}
  retry: { attempts: 3, initial_delay: 100ms, max_delay: 300ms }
  id: ref
`,
    });
    // the feed is not accepted until the lock is in place
    flood.accepting = false;
    await system.start();
    blocker = new pg.Client({ connectionString: localPostgresUrl });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`INSERT INTO outbox (source, item_id, data) VALUES ($1, $2, '{}')`, [feed, `${feed}:w-0`]);
    flood.accepting = true;
  }, 90_000);

  afterAll(async () => {
    await blocker?.query('ROLLBACK').catch(() => undefined);
    await blocker?.end().catch(() => undefined);
    await system?.stop();
    await flood?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it(
    'pauses the feed while items wait to be stored, holds no more than max_pending and one read, and stores every message once the outbox takes them',
    withLogs(
      () => [system],
      async () => {
        const watch = new Watch(system);
        // the outbox is held: the feed fills the socket buffers between it and system-api, and must wait
        await eventually(() => flood.mostBuffered > 4 * MiB, 30_000);
        await eventually(() => (watch.mostWaiting.get(feed) ?? 0) > 0, 10_000);
        const oneRead = Math.ceil(65_536 / flood.messageBytes);
        expect(flood.sent).toBeLessThan(MESSAGES);
        expect(watch.mostWaiting.get(feed)).toBeLessThanOrEqual(2 * MAX_PENDING + oneRead);
        expect(watch.healthChecks).toBeGreaterThan(0);

        // the outbox takes items again: everything the feed sent is stored, and the feed could finish
        await blocker.query('ROLLBACK');
        await eventually(async () => (await metric(system, 'system_api_items_stored_total', feed)) === MESSAGES, 45_000, 200);
        await watch.stop();
        expect(flood.sent).toBe(MESSAGES);
        expect(watch.mostWaiting.get(feed)).toBeLessThanOrEqual(2 * MAX_PENDING + oneRead);
      },
    ),
    90_000,
  );
});
