import { type Rate, rates, type Sample } from './throughput';

export type { Sample };

const WIDTH = 600;
const HEIGHT = 140;
const PAD = 28;

/** Entities published and frames delivered a second, over the last readings, as an SVG chart (no library, no inline style). */
export function ThroughputChart({ samples }: { samples: readonly Sample[] }) {
  const points = rates(samples);
  const top = Math.max(1, ...points.flatMap((point) => [point.published, point.delivered]));
  const first = points[0]?.at ?? 0;
  const span = Math.max(1, (points.at(-1)?.at ?? 1) - first);
  const x = (at: number) => PAD + ((at - first) / span) * (WIDTH - 2 * PAD);
  const y = (rate: number) => HEIGHT - PAD / 2 - (rate / top) * (HEIGHT - PAD);
  const line = (pick: (rate: Rate) => number) => points.map((point) => `${x(point.at).toFixed(1)},${y(pick(point)).toFixed(1)}`).join(' ');
  const last = points.at(-1);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Throughput, per second">
        <line className="axis" x1={PAD} y1={HEIGHT - PAD / 2} x2={WIDTH - PAD} y2={HEIGHT - PAD / 2} />
        <line className="grid" x1={PAD} y1={y(top)} x2={WIDTH - PAD} y2={y(top)} />
        <text className="label" x={2} y={y(top) + 4}>
          {formatRate(top)}
        </text>
        <text className="label" x={2} y={HEIGHT - PAD / 2 + 4}>
          0
        </text>
        {points.length > 1 && <polyline className="series delivered" points={line((point) => point.delivered)} />}
        {points.length > 1 && <polyline className="series published" points={line((point) => point.published)} />}
      </svg>
      <figcaption>
        <span className="key delivered">delivered/s {last ? formatRate(last.delivered) : '–'}</span>
        <span className="key published">published/s {last ? formatRate(last.published) : '–'}</span>
        {points.length < 2 && <span className="hint"> · the chart fills in as readings arrive</span>}
      </figcaption>
    </figure>
  );
}

function formatRate(rate: number): string {
  return rate >= 100 ? Math.round(rate).toLocaleString('en') : rate.toFixed(rate >= 10 ? 1 : 2);
}
