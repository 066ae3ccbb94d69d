import { RecentAlerts } from './recent-alerts.js';

describe('RecentAlerts', () => {
  it('keeps one line per kind, counting raises until the condition is resolved, then starting over', () => {
    const recent = new RecentAlerts();
    recent.raised({ kind: 'smtp_down', severity: 'error', subject: 'mail failures' }, 1_000);
    recent.raised({ kind: 'smtp_down', severity: 'error', subject: 'mail failures', details: { host: 'mx' } }, 2_000);
    expect(recent.list()).toEqual([
      expect.objectContaining({
        kind: 'smtp_down',
        count: 2,
        first_at: new Date(1_000).toISOString(),
        last_at: new Date(2_000).toISOString(),
        active: true,
        details: { host: 'mx' },
      }),
    ]);
    recent.resolved('smtp_down', 3_000);
    expect(recent.list()[0]).toMatchObject({ active: false, resolved_at: new Date(3_000).toISOString(), count: 2 });
    recent.raised({ kind: 'smtp_down', severity: 'error', subject: 'mail failures' }, 4_000);
    expect(recent.list()[0]).toMatchObject({ active: true, count: 1, first_at: new Date(4_000).toISOString() });
  });

  it('redacts secrets as a mail does, and lists the newest first', () => {
    const recent = new RecentAlerts();
    recent.raised({ kind: 'a', severity: 'warning', subject: 'a', details: { token: 'abc', url: 'redis://user:pw@cache:6379' } }, 1_000);
    recent.raised({ kind: 'b', severity: 'critical', subject: 'b' }, 2_000);
    expect(recent.list().map((alert) => alert.kind)).toEqual(['b', 'a']);
    expect(recent.list()[1].details).toEqual({ token: '[redacted]', url: 'redis://cache:6379' });
  });

  it('holds at most its limit of kinds, dropping the least recently raised', () => {
    const recent = new RecentAlerts(3);
    for (const [index, kind] of ['a', 'b', 'c', 'a', 'd'].entries()) recent.raised({ kind, severity: 'warning', subject: kind }, index);
    expect(recent.list().map((alert) => alert.kind)).toEqual(['d', 'a', 'c']);
  });
});
