import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { WebSocket } from 'ws';
import { round } from '../lib/stats.js';
import { RunningTarget } from '../lib/targets.js';

const SYSTEM_MAIN = resolve('dist/apps/system-api/main.js');
/** Files the NDJSON run's items are spread over. */
const NDJSON_FILES = 10;
/** Rows inserted per statement into the source table. */
const INSERT_CHUNK = 10_000;
/** Rows the postgres source reads per poll. */
const PAGE = 5_000;
/** Bytes of text in each item beside its number. */
const PAYLOAD_BYTES = 100;

export interface PipelineSettings {
  /** Items per source run. */
  readonly items: number;
  /** FORWARD_BATCH of system-api. */
  readonly forwardBatch: number;
  /** Where the source table goes. */
  readonly sourceUrl: URL;
  /** The database of experience-api and system-api; PGlite folders of their own when undefined. */
  readonly databaseUrl?: URL;
  readonly runDir: string;
  readonly runTag: string;
  /** Longest a run may take before it is reported as incomplete. */
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

export interface PipelineReport {
  /** `postgres`: rows inserted into a table a postgres source reads; `ndjson`: NDJSON files dropped into a directory source's folder. */
  readonly source: 'postgres' | 'ndjson';
  readonly items: number;
  /** Distinct items the consumer received. */
  readonly received: number;
  /** Frames of an item already received. */
  readonly repeated: number;
  /** Items received after an item that came later in the source. */
  readonly outOfOrder: number;
  /** From the first row inserted (or file dropped) to the last item at the consumer. */
  readonly elapsedMs: number;
  /** From the first row inserted (or file dropped) to the first item at the consumer. */
  readonly firstItemMs: number;
  readonly itemsPerSecond: number;
  /** Writing the rows or the files, within elapsedMs. */
  readonly writeMs: number;
}

/** What one consumer received of one source: counts, repeats and order, by the number in each item's id. */
class Arrivals {
  private readonly seen = new Set<number>();
  private last = -1;
  repeated = 0;
  outOfOrder = 0;
  firstAt = 0;
  lastAt = 0;

  add(n: number): void {
    const now = performance.now();
    if (this.seen.size === 0) this.firstAt = now;
    if (this.seen.has(n)) {
      this.repeated++;
      return;
    }
    if (n < this.last) this.outOfOrder++;
    this.last = n;
    this.seen.add(n);
    this.lastAt = now;
  }

  get received(): number {
    return this.seen.size;
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Waits until `check` holds, or `timeoutMs` has passed; returns whether it held. */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * The end-to-end scenario: experience-api and system-api as in production
 * (their builds, in processes of their own), one consumer connected over a
 * WebSocket, and two sources of system-api fed `items` items each in turn: a
 * Postgres table (rows inserted in chunks, read a page at a time by a postgres
 * source) and a folder (NDJSON files, read by a directory source). Each run
 * is timed from its first write to the last item at the consumer, and checked:
 * every item once, in the source's order.
 */
export async function runPipeline(settings: PipelineSettings): Promise<PipelineReport[]> {
  const { log } = settings;
  const tag = settings.runTag.replace(/[^a-z0-9]/gi, '_').toLowerCase();
  const table = `bench_pipeline_${tag}`;
  const pgSource = `pg-${tag}`;
  const filesSource = `files-${tag}`;
  const work = mkdtempSync(join(tmpdir(), `${settings.runTag}-pipeline-`));
  const folder = join(work, 'inbox');
  mkdirSync(folder);
  const source = new pg.Client({ connectionString: settings.sourceUrl.toString() });
  await source.connect();
  await source.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, payload text NOT NULL)`);

  const adminToken = randomBytes(24).toString('base64url');
  const experience = await RunningTarget.start('gateway', {
    consumersFile: join(settings.runDir, 'pipeline-consumers.txt'),
    runDir: settings.runDir,
    databaseUrl: settings.databaseUrl,
    pgliteDataDir: join(work, 'experience-api'),
    profile: false,
    label: 'pipeline-experience-api',
    adminToken,
  });
  const base = `http://${experience.endpoint.host}:${experience.endpoint.port}`;
  let system: ChildProcess | undefined;
  let socket: WebSocket | undefined;
  try {
    // one client, one consumer, through the API
    const clientId = `bench-pipeline-${tag}`.slice(0, 64);
    const created = await fetch(`${base}/admin/clients`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: clientId }),
    });
    if (created.status !== 201) throw new Error(`POST /admin/clients: ${created.status} ${await created.text()}`);
    const { client_secret: secret } = (await created.json()) as { client_secret: string };
    const registered = await fetch(`${base}/consumers`, { method: 'POST', headers: { client_id: clientId, client_secret: secret } });
    if (registered.status !== 201) throw new Error(`POST /consumers: ${registered.status} ${await registered.text()}`);
    const { token } = (await registered.json()) as { token: string };

    const arrivals = new Map<string, Arrivals>([
      [pgSource, new Arrivals()],
      [filesSource, new Arrivals()],
    ]);
    socket = new WebSocket(`ws://${experience.endpoint.host}:${experience.endpoint.port}/ws/publish`, {
      headers: { client_id: clientId, Authorization: `Bearer ${token}` },
    });
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; id?: string };
      if (frame.type !== 'entity' || !frame.id) return;
      const colon = frame.id.lastIndexOf(':');
      arrivals.get(frame.id.slice(0, colon))?.add(Number(frame.id.slice(colon + 1)));
    });
    await new Promise<void>((done, fail) => {
      socket!.once('open', () => done());
      socket!.once('error', fail);
    });

    // system-api, reading both sources
    const port = await freePort();
    const sourcesFile = join(work, 'sources.yaml');
    writeFileSync(
      sourcesFile,
      `- name: ${pgSource}
  type: postgres
  url_env: BENCH_SOURCE_URL
  query: SELECT id, payload FROM ${table} WHERE id > $1 ORDER BY id LIMIT ${PAGE}
  cursor: id
  initial_cursor: 0
  interval: 50ms
  id: id
- name: ${filesSource}
  type: directory
  path: ${folder}
  interval: 50ms
  settle: 0ms
  id: n
`,
    );
    const systemLog = openSync(join(settings.runDir, 'pipeline-system-api.log'), 'a');
    system = spawn(
      process.execPath,
      [...(process.env.BENCH_PIPELINE_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PIPELINE_PROF}`] : []), SYSTEM_MAIN],
      {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          PORT: String(port),
          EXPERIENCE_API_URL: base,
          SOURCES_FILE: sourcesFile,
          FORWARD_BATCH: String(settings.forwardBatch),
          BENCH_SOURCE_URL: settings.sourceUrl.toString(),
          LOG_LEVEL: 'warn',
          INSTANCE_ID: `bench-pipeline-${tag}`,
          ...(settings.databaseUrl ? { DATABASE_URL: settings.databaseUrl.toString() } : { PGLITE_DATA_DIR: join(work, 'system-api') }),
        },
        stdio: ['ignore', systemLog, systemLog],
      },
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (system.exitCode !== null) throw new Error(`system-api exited during start (code ${system.exitCode}); see ${settings.runDir}/pipeline-system-api.log`);
      const status = await fetch(`http://127.0.0.1:${port}/health`)
        .then((answer) => answer.status)
        .catch(() => 0);
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error('system-api did not report itself healthy within 60 s');
      await sleep(100);
    }

    const payload = 'x'.repeat(PAYLOAD_BYTES);
    const reports: PipelineReport[] = [];
    const measure = async (kind: PipelineReport['source'], name: string, write: () => Promise<void>) => {
      const seen = arrivals.get(name)!;
      const startedAt = performance.now();
      await write();
      const writeMs = performance.now() - startedAt;
      const complete = await until(() => seen.received >= settings.items, settings.timeoutMs);
      // a repeat has no event of its own: watch a moment longer for one on its way
      await sleep(500);
      const elapsedMs = (complete ? seen.lastAt : performance.now()) - startedAt;
      const report: PipelineReport = {
        source: kind,
        items: settings.items,
        received: seen.received,
        repeated: seen.repeated,
        outOfOrder: seen.outOfOrder,
        elapsedMs: round(elapsedMs, 0),
        firstItemMs: round(seen.firstAt - startedAt, 0),
        itemsPerSecond: round((seen.received * 1_000) / elapsedMs, 0),
        writeMs: round(writeMs, 0),
      };
      log(
        `pipeline ${kind}: ${report.received}/${report.items} items in ${report.elapsedMs} ms = ${report.itemsPerSecond} items/s end to end ` +
          `(first after ${report.firstItemMs} ms; writing took ${report.writeMs} ms); repeated ${report.repeated}, out of order ${report.outOfOrder}`,
      );
      reports.push(report);
    };

    log(`pipeline: ${settings.items} rows into a Postgres table read by a postgres source (${PAGE} a poll), FORWARD_BATCH ${settings.forwardBatch}`);
    await measure('postgres', pgSource, async () => {
      for (let from = 1; from <= settings.items; from += INSERT_CHUNK) {
        const to = Math.min(settings.items, from + INSERT_CHUNK - 1);
        await source.query(`INSERT INTO ${table} (id, payload) SELECT n, $1 || n FROM generate_series($2::bigint, $3::bigint) AS n`, [payload, from, to]);
      }
    });

    log(`pipeline: ${settings.items} items in ${NDJSON_FILES} NDJSON files dropped into a directory source's folder`);
    await measure('ndjson', filesSource, async () => {
      const perFile = Math.ceil(settings.items / NDJSON_FILES);
      for (let file = 0; file < NDJSON_FILES; file++) {
        const lines: string[] = [];
        for (let n = file * perFile; n < Math.min(settings.items, (file + 1) * perFile); n++) lines.push(JSON.stringify({ n, payload: `${payload}${n}` }));
        const name = `part-${String(file).padStart(3, '0')}.ndjson`;
        writeFileSync(join(folder, `.${name}`), `${lines.join('\n')}\n`);
        renameSync(join(folder, `.${name}`), join(folder, name));
      }
    });
    return reports;
  } finally {
    socket?.terminate();
    if (system && system.exitCode === null) {
      const exited = new Promise((done) => system!.once('exit', done));
      system.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (system.exitCode === null) system.kill('SIGKILL');
    }
    await experience.stop();
    await source.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await source.end();
    rmSync(work, { recursive: true, force: true });
  }
}
