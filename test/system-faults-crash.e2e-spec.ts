import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from './support/experience-api.js';
import { databaseUrl } from './support/services.js';
import { SystemApiProcess } from './support/system-api.js';
import { consumerHeaders, TestSocket } from './support/ws-client.js';

// system-api killed (SIGKILL: no shutdown hook runs) while it forwards a large
// batch, then started again over the same data: PGlite's files in the work
// folder, or the same Postgres. Every item must reach the consumer exactly once.

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

describe('system-api faults: SIGKILL in the middle of a batch', () => {
  const batch = `batch-${run}`;
  const total = 2_000;
  let experience: RunningExperienceApi;
  let consumer: TestSocket;
  let received: Received;
  let system: SystemApiProcess;
  let workDir: string;
  let inbox: string;

  beforeAll(async () => {
    experience = await startExperienceApi();
    const credentials = await createConsumer(experience);
    consumer = await TestSocket.open(`${experience.wsUrl}/ws/publish`, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    received = new Received(consumer);
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
