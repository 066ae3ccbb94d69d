import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntityRelay } from '../support/pipeline/entity-relay.js';
import { Pipeline } from '../support/pipeline/pipeline.js';
import type { SystemApiProcess } from '../support/processes/system-api.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';

// system-api forwards each source's pending items in batches through POST /entities (FORWARD_BATCH at a time,
// 100 by default) and marks each batch delivered in one statement: order per source, exactly once at the consumer,
// at most one batch sent again after a crash, and a poison item costing only itself.

const run = `${Date.now().toString(36)}-${process.pid}`;
const BATCH = 100;

async function metric(system: SystemApiProcess, name: string, source: string): Promise<number> {
  const text = await (await fetch(`${await system.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{source="${source}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('system-api: forwarding in batches through POST /entities', () => {
  const burst = `burst-${run}`;
  const poison = `poison-${run}`;
  const crash = `crash-${run}`;
  /** Every entity id the consumer received, in the order received. */
  const order: string[] = [];
  const orderOf = (source: string) => order.filter((id) => id.startsWith(`${source}:`));

  const pipeline = Pipeline.use({
    name: 'system-forwarding-batches',
    // counts what system-api offers, item by item, and passes everything on
    relay: (experienceApiUrl) => new EntityRelay(experienceApiUrl),
    // the restarted process is a new instance: it takes the sources once the dead one's leases lapse
    env: () => ({ SOURCE_LEASE_TTL: '2s', FORWARD_BATCH: String(BATCH) }),
    sources: (inbox) =>
      [burst, poison, crash]
        .map((name) => {
          mkdirSync(join(inbox, name));
          return `
- name: ${name}
  type: directory
  path: ${join(inbox, name)}
  interval: 100ms
  settle: 0ms
  id: ref
  map: '{"groups": tags, "data": $}'
`;
        })
        .join(''),
  });

  beforeAll(() => {
    pipeline.consumer.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; id?: string };
      if (frame.type === 'entity' && frame.id) order.push(frame.id);
    });
  });

  /** Writes an NDJSON file of items into a source's folder, the way a careful producer does. */
  function drop(source: string, items: ReadonlyArray<Record<string, unknown>>): void {
    const folder = join(pipeline.inbox, source);
    writeFileSync(join(folder, '.items.ndjson'), `${items.map((item) => JSON.stringify(item)).join('\n')}\n`);
    renameSync(join(folder, '.items.ndjson'), join(folder, 'items.ndjson'));
  }

  it(
    'delivers a burst of 3,000 items exactly once and in order, a batch of 100 per request',
    pipeline.logs(async () => {
      const { received, relay, system } = pipeline;
      const refs = Array.from({ length: 3_000 }, (_, n) => `b-${n}`);
      drop(
        burst,
        refs.map((ref, n) => ({ ref, n })),
      );

      await expectExactly(3_000, () => received.frames(burst), { timeoutMs: 30_000 });
      expect(orderOf(burst)).toEqual(refs.map((ref) => `${burst}:${ref}`));
      // each item offered once, accepted (202)
      const offered = relay.attempts.filter((attempt) => attempt.id.startsWith(`${burst}:`));
      expect(offered).toHaveLength(3_000);
      expect(offered.every((attempt) => attempt.status === 202)).toBe(true);
      // in batches: one log line per batch forwarded, each of FORWARD_BATCH items
      expect(system.log.match(new RegExp(`forwarded ${BATCH} items of ${burst}`, 'g'))).toHaveLength(30);
      expect(await metric(system, 'system_api_items_forwarded_total', burst)).toBe(3_000);
    }),
    60_000,
  );

  it(
    'makes an item experience-api refuses inside a batch a dead letter, and delivers the rest of the batch and the source in order',
    pipeline.logs(async () => {
      const { received, relay, system } = pipeline;
      const items = Array.from({ length: 250 }, (_, n) => ({ ref: `p-${n}`, n, ...(n === 42 || n === 160 ? { tags: ['not a group'] } : {}) }));
      drop(poison, items);

      const good = items.filter((item) => item.tags === undefined).map((item) => `${poison}:${item.ref}`);
      await expectExactly(248, () => received.frames(poison), { timeoutMs: 30_000 });
      expect(orderOf(poison)).toEqual(good);
      await eventually(async () => (await metric(system, 'system_api_dead_letters_total', poison)) === 2, 10_000);
      // refused once each, by experience-api itself, and never offered again
      expect(relay.attemptsFor(`${poison}:p-42`)).toEqual([{ id: `${poison}:p-42`, status: 400 }]);
      expect(relay.attemptsFor(`${poison}:p-160`)).toEqual([{ id: `${poison}:p-160`, status: 400 }]);
      expect(system.log).toMatch(new RegExp(`refused item ${poison}:p-42 of ${poison} for good: HTTP 400 bad_request: groups: each of groups must match`));
      expect(relay.attempts.filter((attempt) => attempt.id.startsWith(`${poison}:`))).toHaveLength(250);
    }),
    60_000,
  );

  it(
    'after a SIGKILL in the middle of a burst, sends at most one batch again, and the consumer still sees each item once, in order',
    pipeline.logs(async () => {
      const { received, relay, system } = pipeline;
      const total = 10_000;
      const refs = Array.from({ length: total }, (_, n) => `k-${n}`);
      drop(
        crash,
        refs.map((ref, n) => ({ ref, n })),
      );

      await eventually(() => received.ids(crash).length >= 1_000, 30_000, 5);
      await system.kill();
      expect(received.ids(crash).length).toBeLessThan(total);

      await system.start();
      await expectExactly(total, () => received.frames(crash), {
        timeoutMs: 60_000,
        describe: () => `repeated: ${received.repeated(crash).slice(0, 10).join(', ')}`,
      });
      expect(received.repeated(crash)).toEqual([]);
      expect(orderOf(crash)).toEqual(refs.map((ref) => `${crash}:${ref}`));
      // what was offered twice: the batch in flight at the kill at most, answered as duplicates the second time
      const offered = relay.attempts.filter((attempt) => attempt.id.startsWith(`${crash}:`));
      const again = offered.length - total;
      expect(again).toBeGreaterThanOrEqual(0);
      expect(again).toBeLessThanOrEqual(BATCH);
      expect(offered.filter((attempt) => attempt.status === 200)).toHaveLength(again);
    }),
    120_000,
  );
});
