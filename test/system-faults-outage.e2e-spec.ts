import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './support/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from './support/experience-api.js';
import { MailCatcher } from './support/mail-catcher.js';
import { databaseUrl } from './support/services.js';
import { SystemApiProcess } from './support/system-api.js';
import { pause, ReceivedEntities, withLogs } from './support/received-entities.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { consumerHeaders, TestSocket } from './support/ws-client.js';

// experience-api unreachable from system-api for 30 seconds (the figure)
// while items keep arriving. A TCP relay between the two is cut, the way a crash
// or a partition looks from system-api; the consumer stays connected directly.

const OUTAGE_MS = 30_000;
const run = `${Date.now().toString(36)}-${process.pid}`;

type Health = Awaited<ReturnType<SystemApiProcess['health']>> & { checks: { experience_api: { status: string } } };

describe('system-api: experience-api unreachable for 30 seconds while items arrive', () => {
  const source = `outage-${run}`;
  let experience: RunningExperienceApi;
  let proxy: TcpProxy;
  let consumer: TestSocket;
  let received: ReceivedEntities;
  let smtp: MailCatcher;
  let system: SystemApiProcess;
  let workDir: string;
  let inbox: string;

  const subjects = () => smtp.mails.map((mail) => mail.subject ?? '');
  const health = () => system.health() as Promise<Health>;

  /** Drops a file the way a careful producer does: written aside, then renamed into the folder. */
  function drop(name: string, items: unknown[]): void {
    writeFileSync(join(inbox, `.${name}`), JSON.stringify(items));
    renameSync(join(inbox, `.${name}`), join(inbox, name));
  }

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    experience = await startExperienceApi();
    const credentials = await createConsumer(experience);
    consumer = await TestSocket.open(`${experience.wsUrl}/ws/publish`, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    received = new ReceivedEntities(consumer);
    expect((await consumer.next()).type).toBe('welcome');
    // system-api reaches experience-api only through this relay
    proxy = new TcpProxy('127.0.0.1', Number(new URL(experience.httpUrl).port));
    await proxy.start();

    workDir = mkdtempSync(join(tmpdir(), 'system-faults-outage-'));
    inbox = join(workDir, 'inbox');
    mkdirSync(inbox);
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: `http://127.0.0.1:${proxy.port}`,
      env: {
        SMTP_URL: smtp.url(),
        ALERT_EMAIL_TO: 'oncall@example.test',
        ALERT_FOLD_WINDOW: '1s',
        EXPERIENCE_API_ALERT_AFTER: '2s',
        // the backoff while experience-api is away tops out here, so recovery is seen within a second
        FORWARD_RETRY_MAX: '1s',
      },
      sources: `
- name: ${source}
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
    await proxy?.cut().catch(() => undefined);
    await experience?.close();
    await smtp?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('keeps every item while it is away, alerts, and delivers them all once each when it is back', withLogs(() => [system], async () => {
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
      drop(`cut-${String(files).padStart(3, '0')}.json`, [0, 1, 2].map((k) => ({ ref: `c-${files}-${k}`, at: Date.now() })));
      files++;
      const now = await health();
      sawDown ||= now.checks.experience_api.status === 'down';
      mostPending = Math.max(mostPending, now.outbox.pending);
      if (alertedAfterMs === undefined && subjects().includes('[system-api] experience-api unreachable')) alertedAfterMs = Date.now() - cutAt;
      await pause(500);
    }
    const expected = [`${source}:w-0`, ...Array.from({ length: files }, (_, f) => [0, 1, 2].map((k) => `${source}:c-${f}-${k}`)).flat()].sort();

    // while cut: nothing got through, health said so, items waited in the outbox, on-call was told once
    expect(received.ids(source)).toEqual([`${source}:w-0`]);
    expect(sawDown).toBe(true);
    const during = await health();
    expect(during.checks).toMatchObject({ experience_api: { status: 'down' } });
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
    await eventually(() => received.ids(source).length === expected.length, 30_000, 100);
    const catchUpMs = Date.now() - restoredAt;
    await eventually(() => subjects().includes('[system-api] resolved: experience-api unreachable'), 10_000);
    await pause(500);
    expect(received.ids(source)).toEqual(expected);
    expect(received.repeated(source)).toEqual([]);
    expect(received.frames(source)).toBe(expected.length);
    const after = await health();
    expect(after.checks).toMatchObject({ experience_api: { status: 'up' } });
    if (!databaseUrl) expect(after.outbox.pending).toBe(0);
    expect(subjects().filter((s) => /experience-api unreachable/.test(s))).toEqual([
      '[system-api] experience-api unreachable',
      '[system-api] resolved: experience-api unreachable',
    ]);
    expect(catchUpMs).toBeLessThan(15_000);
  }), 90_000);
});
