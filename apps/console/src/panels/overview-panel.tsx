import { useEffect, useState } from 'react';
import type { Stats } from '../admin-api';
import { usePoll } from '../session';
import { ThroughputChart, type Sample } from './throughput-chart';

/** Seconds between two readings of the counters. */
const EVERY_MS = 2_000;
/** Readings kept for the chart: two minutes. */
const KEPT = 60;

/** This instance's counters and the throughput chart, above every tab. */
export function OverviewPanel() {
  const stats = usePoll((api) => api.stats(), EVERY_MS);
  const [samples, setSamples] = useState<Sample[]>([]);

  useEffect(() => {
    const reading = stats.value;
    if (reading === undefined) return;
    setSamples((earlier) => {
      const previous = earlier.at(-1);
      const at = Date.parse(reading.at);
      if (previous?.at === at) return earlier;
      return [...earlier, { at, published: reading.entities_published, delivered: reading.deliveries, instance: reading.instance_id }].slice(-KEPT);
    });
  }, [stats.value]);

  const value = stats.value;
  return (
    <section className="overview" aria-label="Overview">
      <dl className="counters">
        <Counter label="Sockets open" value={value?.sockets_open} />
        <Counter label="Entities published" value={value?.entities_published} />
        <Counter label="Deliveries" value={value?.deliveries} />
        <Counter label="Delivery failures" value={value?.delivery_failures} />
        <Counter label="Handshakes accepted" value={value?.handshakes_accepted} />
        <Counter label="Handshakes refused" value={value?.handshakes_refused} />
      </dl>
      <ThroughputChart samples={samples} />
      <p className="hint">
        {value ? (
          <>
            Instance {shortInstance(value)} · counters since it started · read every {EVERY_MS / 1000} s
          </>
        ) : (
          'Reading the counters…'
        )}
        {stats.error && <span className="problem"> · {stats.error.message}</span>}
      </p>
    </section>
  );
}

function Counter({ label, value }: { label: string; value: number | undefined }) {
  return (
    <div className="counter">
      <dt>{label}</dt>
      <dd aria-label={label}>{value === undefined ? '–' : value.toLocaleString('en')}</dd>
    </div>
  );
}

function shortInstance(stats: Stats): string {
  return stats.instance_id.length > 12 ? `${stats.instance_id.slice(0, 8)}…` : stats.instance_id;
}
