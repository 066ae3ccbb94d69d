import pg from 'pg';
import { Pipeline } from '../support/pipeline/pipeline.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import type { SystemApiProcess } from '../support/processes/system-api.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';

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
  const expected: string[] = [];
  let first: SystemApiProcess;
  let second: SystemApiProcess;
  const pipeline = Pipeline.use({
    name: 'system-faults-cluster',
    startSystem: false,
    env: () => ({ DATABASE_URL: localPostgresUrl, SOURCE_LEASE_TTL: `${LEASE_MS}ms` }),
    sources: (inbox) => `
- name: ${source}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 100ms
  id: ref
`,
  });

  /** Writes `count` items as one NDJSON file, aside first and then renamed in, and notes their ids. */
  function drop(name: string, count: number): void {
    const refs = Array.from({ length: count }, (_, n) => `${name}-${n}`);
    pipeline.drop(`${name}.ndjson`, refs.map((ref) => JSON.stringify({ ref })).join('\n'));
    expected.push(...refs.map((ref) => `${source}:${ref}`));
  }

  /** Waits until the source's lease in the database was renewed `times` more, by `owner` all along. */
  async function leaseRenewed(times: number, owner: string): Promise<void> {
    const database = new pg.Client({ connectionString: localPostgresUrl });
    await database.connect();
    const seen = new Set<number>();
    try {
      await eventually(
        async () => {
          const { rows } = await database.query<{ owner: string; expires_at: Date }>('SELECT owner, expires_at FROM source_leases WHERE source = $1', [source]);
          if (rows[0]?.owner !== owner) throw new Error(`the lease is held by ${rows[0]?.owner ?? 'nobody'}, not ${owner}`);
          seen.add(rows[0].expires_at.getTime());
          return seen.size > times;
        },
        10_000,
        50,
        `${times} renewals of the lease by ${owner}`,
      );
    } finally {
      await database.end();
    }
  }

  async function state(system: SystemApiProcess): Promise<string | undefined> {
    return (await system.health()).sources.find((s) => s.name === source)?.state;
  }

  beforeAll(async () => {
    first = pipeline.instance('first', { INSTANCE_ID: `first-${run}` });
    second = pipeline.instance('second', { INSTANCE_ID: `second-${run}` });
    await first.start();
    await eventually(async () => (await state(first)) === 'up', 10_000);
    await second.start();
    await eventually(async () => (await state(second)) === 'standby', 10_000);
  }, 90_000);

  it(
    'one instance reads and forwards the source, the other stands by, and each item arrives once',
    pipeline.logs(async () => {
      const { received } = pipeline;
      expect(await state(first)).toBe('up');
      expect(await state(second)).toBe('standby');
      drop('a', 20);
      drop('b', 20);
      drop('c', 20);

      await expectExactly(expected.length, () => received.frames(source), { timeoutMs: 15_000 });
      expect(received.ids(source)).toEqual([...expected].sort());
      // several lease renewals later, the roles hold and nothing came twice
      await leaseRenewed(2, `first-${run}`);
      expect(received.frames(source)).toBe(expected.length);
      expect(await state(first)).toBe('up');
      expect(await state(second)).toBe('standby');
    }),
    30_000,
  );

  it(
    'takes over within the lease when the holder is killed mid-batch, and every item still arrives once',
    pipeline.logs(async () => {
      const { received } = pipeline;
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

      await expectExactly(expected.length, () => received.frames(source), {
        timeoutMs: 30_000,
        describe: () => `repeated: ${received.repeated(source).slice(0, 10).join(', ')}`,
      });
      expect(received.ids(source)).toEqual([...expected].sort());
      expect(received.repeated(source)).toEqual([]);
      expect(second.log).toMatch(/held by another instance; standing by/);
    }),
    60_000,
  );
});
