import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import { SocketRegistry } from '@app/socket-registry';
import { ClusterMonitor } from '../../apps/experience-api/src/cluster/cluster-monitor.js';
import type { RedisConnection } from '../../apps/experience-api/src/cluster/redis-connection.js';
import { GatewayMetrics } from '../../apps/experience-api/src/metrics/gateway-metrics.js';
import { SystemMetrics } from '../../apps/system-api/src/counters/system-metrics.js';
import { SystemGauges } from '../../apps/system-api/src/metrics/system-gauges.js';
import type { OutboxRepository } from '../../apps/system-api/src/outbox/outbox.repository.js';
import type { SourceRunner } from '../../apps/system-api/src/sources/source-runner.service.js';

// The monitoring in deploy/ names metrics by their text: a metric renamed in the code would leave a
// rule that never fires and a panel that stays empty. Every name they use must be one the apps expose.

/** Every metric family the two apps register, the cluster's gauge included. */
async function exposedNames(): Promise<Set<string>> {
  const gateway = new GatewayMetrics(new SocketRegistry({ maxBufferedBytes: 65_536 }));
  const redis = { onChange: () => undefined, isReachable: true } as unknown as RedisConnection;
  new ClusterMonitor(redis, {} as AlertService, new ManualClock(), gateway);
  const system = new SystemMetrics();
  const outbox = { depth: async () => ({ pending: 0, deadLetters: 0 }) } as unknown as OutboxRepository;
  new SystemGauges(system, outbox, { statuses: () => [] } as unknown as SourceRunner);
  const families = [...(await gateway.registry.getMetricsAsJSON()), ...(await system.registry.getMetricsAsJSON())];
  // a histogram or summary is queried by its series, not its family name
  const series = families.flatMap((family) =>
    ['histogram', 'summary'].includes(String(family.type)) ? [`${family.name}_sum`, `${family.name}_count`, `${family.name}_bucket`] : [family.name],
  );
  return new Set(series);
}

const OURS = /\b(push_gateway_\w+|system_api_\w+|process_\w+|nodejs_\w+)\b/g;

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: { severity?: string };
  readonly annotations?: { summary?: string; description?: string };
}

const rules: Rule[] = (parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
  (group) => group.rules,
);
const dashboard = JSON.parse(readFileSync('deploy/grafana/push-gateway.json', 'utf8')) as {
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
};
const graphs = dashboard.panels.filter((panel) => panel.type !== 'row');

describe('the monitoring in deploy/', () => {
  let exposed: Set<string>;
  beforeAll(async () => {
    exposed = await exposedNames();
  });

  it.each(rules.map((rule) => [rule.alert, rule.expr]))('alert %s queries only metrics the apps expose', (_, expr) => {
    const named = [...expr.matchAll(OURS)].map((match) => match[1]);

    expect(named.filter((name) => !exposed.has(name))).toEqual([]);
    expect(named.length > 0 || /\bup\{job=/.test(expr)).toBe(true);
  });

  it('gives every alert a severity, a summary and a description', () => {
    const incomplete = rules.filter(
      (rule) => !['critical', 'warning'].includes(rule.labels?.severity ?? '') || !rule.annotations?.summary || !rule.annotations.description,
    );

    expect(incomplete.map((rule) => rule.alert)).toEqual([]);
  });

  it.each(graphs.map((panel) => [panel.title, panel.targets ?? []] as const))('panel "%s" queries only metrics the apps expose', (_, targets) => {
    const named = targets.flatMap((target) => [...target.expr.matchAll(OURS)].map((match) => match[1]));

    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('shows every metric of the apps, their own ones, somewhere on the dashboard', () => {
    const shown = new Set(graphs.flatMap((panel) => (panel.targets ?? []).flatMap((target) => [...target.expr.matchAll(OURS)].map((match) => match[1]))));
    const own = [...exposed].filter((name) => name.startsWith('push_gateway_') || name.startsWith('system_api_'));

    expect(own.filter((name) => !shown.has(name))).toEqual([]);
  });
});
