import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pipeline } from '../support/pipeline/pipeline.js';
import { databaseUrl } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';

// system-api killed (SIGKILL: no shutdown hook runs) while it forwards a large
// batch, then started again over the same data: PGlite's files in the work
// folder, or the same Postgres. Every item must reach the consumer exactly once.

const run = `${Date.now().toString(36)}-${process.pid}`;

describe('system-api faults: SIGKILL in the middle of a batch', () => {
  const batch = `batch-${run}`;
  const total = 2_000;
  const pipeline = Pipeline.use({
    name: 'system-faults-kill',
    // the restarted process is a new instance: it takes the source once the dead one's lease lapses
    env: () => ({ SOURCE_LEASE_TTL: '2s' }),
    sources: (inbox) => `
- name: ${batch}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 100ms
  id: ref
`,
  });

  it(
    'delivers every item of the batch exactly once across the crash and the restart',
    pipeline.logs(async () => {
      const { system, received, inbox } = pipeline;
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
      await expectExactly(total, () => received.frames(batch), {
        timeoutMs: 60_000,
        describe: () => `repeated: ${received.repeated(batch).slice(0, 10).join(', ')}`,
      });
      // on Postgres /health counts the whole shared outbox, which other suites' processes use too
      if (!databaseUrl) await eventually(async () => (await system.health()).outbox.pending === 0, 5_000);
      expect(received.repeated(batch)).toEqual([]);
      expect(received.ids(batch)).toEqual(refs.map((ref) => `${batch}:${ref}`).sort());
      expect((await system.health()).sources).toEqual([expect.objectContaining({ name: batch, state: 'up' })]);
    }),
    90_000,
  );
});
