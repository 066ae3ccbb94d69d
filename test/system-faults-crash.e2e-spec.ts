import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from './support/experience-api.js';
import { databaseUrl } from './support/services.js';
import { SystemApiProcess } from './support/system-api.js';
import { pause, ReceivedEntities, withLogs } from './support/received-entities.js';
import { consumerHeaders, TestSocket } from './support/ws-client.js';

// system-api killed (SIGKILL: no shutdown hook runs) while it forwards a large
// batch, then started again over the same data: PGlite's files in the work
// folder, or the same Postgres. Every item must reach the consumer exactly once.

const run = `${Date.now().toString(36)}-${process.pid}`;

describe('system-api faults: SIGKILL in the middle of a batch', () => {
  const batch = `batch-${run}`;
  const total = 2_000;
  let experience: RunningExperienceApi;
  let consumer: TestSocket;
  let received: ReceivedEntities;
  let system: SystemApiProcess;
  let workDir: string;
  let inbox: string;

  beforeAll(async () => {
    experience = await startExperienceApi();
    const credentials = await createConsumer(experience);
    consumer = await TestSocket.open(`${experience.wsUrl}/ws/publish`, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    received = new ReceivedEntities(consumer);
    expect((await consumer.next()).type).toBe('welcome');
    workDir = mkdtempSync(join(tmpdir(), 'system-faults-kill-'));
    inbox = join(workDir, 'inbox');
    mkdirSync(inbox);
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: experience.httpUrl,
      // the restarted process is a new instance: it takes the source once the dead one's lease lapses
      env: { SOURCE_LEASE_TTL: '2s' },
      sources: `
- name: ${batch}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 100ms
  id: ref
`,
    });
    await system.start();
  }, 90_000);

  afterAll(async () => {
    consumer?.socket.terminate();
    await system?.stop();
    await experience?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('delivers every item of the batch exactly once across the crash and the restart', withLogs(() => [system], async () => {
    const refs = Array.from({ length: total }, (_, n) => `k-${n}`);
    writeFileSync(join(inbox, '.batch.ndjson'), `${refs.map((ref, n) => JSON.stringify({ ref, n })).join('\n')}\n`);
    renameSync(join(inbox, '.batch.ndjson'), join(inbox, 'batch.ndjson'));

    await eventually(() => received.ids(batch).length >= 200, 20_000, 10);
    const before = await system.health();
    await system.kill();
    const atKill = received.ids(batch).length;
    // mid-batch: some delivered, the rest still waiting in the outbox
    expect(atKill).toBeLessThan(total);
    expect(before.outbox.pending).toBeGreaterThan(0);
    // the file was taken whole: what remains to send is in the outbox, not in the folder
    expect(readdirSync(join(inbox, 'processed'))).toEqual(['batch.ndjson']);
    expect(readdirSync(inbox).filter((name) => name !== 'processed')).toEqual([]);

    await system.start();
    await eventually(() => received.ids(batch).length === total, 60_000, 100);
    // on Postgres /health counts the whole shared outbox, which other suites' processes use too
    if (!databaseUrl) await eventually(async () => (await system.health()).outbox.pending === 0, 5_000);
    await pause(500);
    expect(received.repeated(batch)).toEqual([]);
    expect(received.frames(batch)).toBe(total);
    expect(received.ids(batch)).toEqual(refs.map((ref) => `${batch}:${ref}`).sort());
    expect((await system.health()).sources).toEqual([expect.objectContaining({ name: batch, state: 'up' })]);
  }), 90_000);
});
