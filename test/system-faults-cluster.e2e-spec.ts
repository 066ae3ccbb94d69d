import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from './support/experience-api.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from './support/services.js';
import { SystemApiProcess } from './support/system-api.js';
import { pause, ReceivedEntities, withLogs } from './support/received-entities.js';
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

(available ? describe : describe.skip)('system-api: two instances on one Postgres', () => {
  const source = `shared-${run}`;
  const folders: string[] = [];
  let experience: RunningExperienceApi;
  let consumer: TestSocket;
  let received: ReceivedEntities;
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
    received = new ReceivedEntities(consumer);
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
