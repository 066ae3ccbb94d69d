import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from './support/experience-api.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from './support/services.js';
import { SystemApiProcess } from './support/system-api.js';
import { consumerHeaders, TestSocket } from './support/ws-client.js';

// Two system-api processes on one Postgres, configured alike: one holds the source
// and forwards, the other stands by; when the holder dies the other takes over once
// the lease lapses. Both run on the machine's Postgres even in the PGlite pass.

const target = new URL(localPostgresUrl);
const available = serviceAvailable(`Postgres at ${target.host}`, await postgresAnswers(localPostgresUrl));

const LEASE_MS = 2_000;
/** The standby retries the lease this often (a third of the lease, at least 500 ms). */
const RENEW_MS = Math.max(500, Math.floor(LEASE_MS / 3));
/** The source's name is this run's own: the database keeps earlier runs' outbox rows and leases. */
const run = `${Date.now().toString(36)}-${process.pid}`;

/** Every entity frame a consumer receives, counted by id. */
class Received {
  private readonly counts = new Map<string, number>();

  constructor(consumer: TestSocket) {
    consumer.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; id?: string };
      if (frame.type === 'entity' && frame.id) this.counts.set(frame.id, (this.counts.get(frame.id) ?? 0) + 1);
    });
  }

  ids(source: string): string[] {
    return [...this.counts.keys()].filter((id) => id.startsWith(`${source}:`)).sort();
  }

  frames(source: string): number {
    return [...this.counts].filter(([id]) => id.startsWith(`${source}:`)).reduce((sum, [, count]) => sum + count, 0);
  }

  repeated(source: string): string[] {
    return [...this.counts].filter(([id, count]) => id.startsWith(`${source}:`) && count > 1).map(([id]) => id);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps a test body so that a failure ends with the last lines each system-api process printed. */
function withLogs(processes: () => Array<SystemApiProcess | undefined>, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      const tails = processes().map((p, n) => `--- system-api ${n + 1}, last lines ---\n${(p?.log ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(-40).join('\n')}`);
      if (error instanceof Error) error.message += `\n\n${tails.join('\n')}`;
      throw error;
    }
  };
}

(available ? describe : describe.skip)('system-api: two instances on one Postgres', () => {
  const source = `shared-${run}`;
  const folders: string[] = [];
  let experience: RunningExperienceApi;
  let consumer: TestSocket;
  let received: Received;
  let inbox: string;
  let first: SystemApiProcess;
  let second: SystemApiProcess;
  const expected: string[] = [];

  /** Writes `count` items as one NDJSON file, aside first and then renamed in, and notes their ids. */
  function drop(name: string, count: number): void {
    const refs = Array.from({ length: count }, (_, n) => `${name}-${n}`);
    writeFileSync(join(inbox, `.${name}.ndjson`), refs.map((ref) => JSON.stringify({ ref })).join('\n'));
    renameSync(join(inbox, `.${name}.ndjson`), join(inbox, `${name}.ndjson`));
    expected.push(...refs.map((ref) => `${source}:${ref}`));
  }

  async function state(system: SystemApiProcess): Promise<string | undefined> {
    return (await system.health()).sources.find((s) => s.name === source)?.state;
  }

  function instance(label: string): SystemApiProcess {
    const workDir = mkdtempSync(join(tmpdir(), `system-faults-${label}-`));
    folders.push(workDir);
    return new SystemApiProcess({
      workDir,
      experienceApiUrl: experience.httpUrl,
      env: { DATABASE_URL: localPostgresUrl, SOURCE_LEASE_TTL: `${LEASE_MS}ms`, INSTANCE_ID: `${label}-${run}` },
      sources: `
- name: ${source}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 100ms
  id: ref
`,
    });
  }

  beforeAll(async () => {
    experience = await startExperienceApi();
    const credentials = await createConsumer(experience);
    consumer = await TestSocket.open(`${experience.wsUrl}/ws/publish`, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    received = new Received(consumer);
    expect((await consumer.next()).type).toBe('welcome');
    const shared = mkdtempSync(join(tmpdir(), 'system-faults-shared-'));
    folders.push(shared);
    inbox = join(shared, 'inbox');
    mkdirSync(inbox);
    first = instance('first');
    second = instance('second');
    await first.start();
    await eventually(async () => (await state(first)) === 'up', 10_000);
    await second.start();
    await eventually(async () => (await state(second)) === 'standby', 10_000);
  }, 90_000);

  afterAll(async () => {
    consumer?.socket.terminate();
    await Promise.all([first?.stop(), second?.stop()]);
    await experience?.close();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('one instance reads and forwards the source, the other stands by, and each item arrives once', withLogs(() => [first, second], async () => {
    expect(await state(first)).toBe('up');
    expect(await state(second)).toBe('standby');
    drop('a', 20);
    drop('b', 20);
    drop('c', 20);

    await eventually(() => received.ids(source).length === expected.length, 15_000);
    await pause(1_000); // several polls and lease renewals later
    expect(received.ids(source)).toEqual([...expected].sort());
    expect(received.frames(source)).toBe(expected.length);
    expect(await state(first)).toBe('up');
    expect(await state(second)).toBe('standby');
  }), 30_000);

  it('takes over within the lease when the holder is killed mid-batch, and every item still arrives once', withLogs(() => [first, second], async () => {
    const before = received.ids(source).length;
    drop('d', 500);
    await eventually(() => received.ids(source).length >= before + 20, 15_000, 10);
    await first.kill();
    const killedAt = Date.now();
    expect(received.ids(source).length).toBeLessThan(expected.length);
    drop('e', 20); // new items while nobody holds the source

    await eventually(async () => (await state(second)) === 'up', 10_000, 50);
    const takeoverMs = Date.now() - killedAt;
    // the dead holder's lease lapses at most LEASE_MS after its last renewal; the standby retries every RENEW_MS
    expect(takeoverMs).toBeLessThan(LEASE_MS + RENEW_MS + 1_500);

    await eventually(() => received.ids(source).length === expected.length, 30_000, 100);
    await pause(500);
    expect(received.ids(source)).toEqual([...expected].sort());
    expect(received.repeated(source)).toEqual([]);
    expect(received.frames(source)).toBe(expected.length);
    expect(second.log).toMatch(/held by another instance; standing by/);
  }), 60_000);
});
