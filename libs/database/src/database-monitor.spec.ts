import type { Alert, AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import type { DatabaseHealth, DatabaseStatus } from './database-health.js';
import { DatabaseMonitor } from './database-monitor.js';

describe(DatabaseMonitor.name, () => {
  let clock: ManualClock;
  let answers: DatabaseStatus[];
  let raised: Alert[];
  let resolved: string[];
  let sut: DatabaseMonitor;

  beforeEach(() => {
    clock = new ManualClock();
    answers = [];
    raised = [];
    resolved = [];
    const database = { check: async () => answers.shift() ?? { up: true } } as unknown as DatabaseHealth;
    const alerts = { raise: (alert: Alert) => raised.push(alert), resolve: (kind: string) => resolved.push(kind) } as unknown as AlertService;
    sut = new DatabaseMonitor(database, alerts, { intervalMs: 1_000 }, clock);
    sut.onApplicationBootstrap();
  });

  afterEach(() => sut.onApplicationShutdown());

  it('alerts once when the database stops answering, however long it stays away, and resolves when it is back', async () => {
    answers.push({ up: false, message: 'connection refused' }, { up: false, message: 'connection refused' }, { up: false, message: 'timeout' });

    await clock.advance(3_000);
    expect(raised).toEqual([expect.objectContaining({ kind: 'database_unreachable', severity: 'critical', details: { error: 'connection refused' } })]);
    expect(sut.isReachable).toBe(false);

    await clock.advance(1_000);
    expect(resolved).toEqual(['database_unreachable']);
    expect(raised).toHaveLength(1);
    expect(sut.isReachable).toBe(true);
  });

  it('stays quiet while the database answers', async () => {
    await clock.advance(10_000);

    expect([raised, resolved]).toEqual([[], []]);
  });

  it('probes no more once the app stops', async () => {
    sut.onApplicationShutdown();

    expect(clock.pending).toBe(0);
  });
});
