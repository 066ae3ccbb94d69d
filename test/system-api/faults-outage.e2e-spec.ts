import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TcpProxy } from '../support/net/tcp-proxy.js';
import { Pipeline } from '../support/pipeline/pipeline.js';
import { databaseUrl } from '../support/processes/services.js';
import type { SystemApiProcess } from '../support/processes/system-api.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';

// experience-api unreachable from system-api for 30 seconds (the figure)
// while items keep arriving. A TCP relay between the two is cut, the way a crash
// or a partition looks from system-api; the consumer stays connected directly.

const OUTAGE_MS = 30_000;
const run = `${Date.now().toString(36)}-${process.pid}`;

type Health = Awaited<ReturnType<SystemApiProcess['health']>> & { checks: { experience_api: { status: string } } };

describe('system-api: experience-api unreachable for 30 seconds while items arrive', () => {
  const source = `outage-${run}`;
  const pipeline = Pipeline.use({
    name: 'system-faults-outage',
    mail: true,
    // system-api reaches experience-api only through this relay
    relay: (experienceApiUrl) => new TcpProxy('127.0.0.1', Number(new URL(experienceApiUrl).port)),
    env: () => ({
      EXPERIENCE_API_ALERT_AFTER: '2s',
      // the backoff while experience-api is away tops out here, so recovery is seen within a second
      FORWARD_RETRY_MAX: '1s',
    }),
    sources: (inbox) => `
- name: ${source}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 100ms
  id: ref
`,
  });

  const subjects = () => pipeline.subjects();
  const health = () => pipeline.system.health() as Promise<Health>;

  const drop = (name: string, items: unknown[]) => pipeline.drop(name, JSON.stringify(items));

  it(
    'keeps every item while it is away, alerts, and delivers them all once each when it is back',
    pipeline.logs(async () => {
      const { system, received, relay: proxy, smtp } = pipeline;
      // the path through the relay works
      drop('warm-up.json', [{ ref: 'w-0' }]);
      await eventually(() => received.ids(source).length === 1, 10_000);
      expect((await health()).checks).toMatchObject({ experience_api: { status: 'up' } });

      await proxy.cut();
      const cutAt = Date.now();
      let files = 0;
      let sawDown = false;
      let mostPending = 0;
      let alertedAfterMs: number | undefined;
      while (Date.now() - cutAt < OUTAGE_MS) {
        const name = `cut-${String(files).padStart(3, '0')}.json`;
        drop(
          name,
          [0, 1, 2].map((k) => ({ ref: `c-${files}-${k}`, at: Date.now() })),
        );
        files++;
        const now = await health();
        sawDown ||= now.checks.experience_api.status === 'down';
        mostPending = Math.max(mostPending, now.outbox.pending);
        if (alertedAfterMs === undefined && subjects().includes('[system-api] experience-api unreachable')) alertedAfterMs = Date.now() - cutAt;
        // the next file once system-api took this one into its outbox: items keep arriving throughout the outage
        await eventually(() => !existsSync(join(pipeline.inbox, name)), 10_000, 20);
      }
      const expected = [`${source}:w-0`, ...Array.from({ length: files }, (_, f) => [0, 1, 2].map((k) => `${source}:c-${f}-${k}`)).flat()].sort();

      // while cut: nothing got through, health said so, items waited in the outbox, on-call was told once
      expect(received.ids(source)).toEqual([`${source}:w-0`]);
      expect(sawDown).toBe(true);
      const during = await health();
      expect(during.checks).toMatchObject({ experience_api: { status: 'down' } });
      // system-api cannot do its job: an orchestrator or a load balancer can tell
      expect([during.httpStatus, during.status]).toEqual([503, 'error']);
      expect(during.outbox.pending).toBeGreaterThan(0);
      if (!databaseUrl) expect(during.outbox.pending).toBeGreaterThanOrEqual(3 * (files - 2)); // the newest files may still be settling
      expect(mostPending).toBeGreaterThan(0);
      expect(alertedAfterMs).toBeDefined();
      expect(alertedAfterMs!).toBeGreaterThanOrEqual(2_000);
      expect(subjects().filter((s) => s === '[system-api] experience-api unreachable')).toHaveLength(1);
      expect(smtp.mails.find((m) => m.subject === '[system-api] experience-api unreachable')!.text).toContain('severity: critical');
      expect(system.log).toMatch(/experience-api unavailable/);

      // back: every item arrives, none twice
      await proxy.start();
      const restoredAt = Date.now();
      await eventually(() => received.frames(source) >= expected.length, 30_000, 100);
      const catchUpMs = Date.now() - restoredAt;
      await expectExactly(expected.length, () => received.frames(source));
      expect(received.ids(source)).toEqual(expected);
      expect(received.repeated(source)).toEqual([]);
      await eventually(() => subjects().includes('[system-api] resolved: experience-api unreachable'), 10_000);
      const after = await health();
      expect(after.checks).toMatchObject({ experience_api: { status: 'up' } });
      expect([after.httpStatus, after.status]).toEqual([200, 'ok']);
      if (!databaseUrl) expect(after.outbox.pending).toBe(0);
      expect(subjects().filter((s) => /experience-api unreachable/.test(s))).toEqual([
        '[system-api] experience-api unreachable',
        '[system-api] resolved: experience-api unreachable',
      ]);
      expect(catchUpMs).toBeLessThan(15_000);
    }),
    90_000,
  );
});
