// The throughput chart's arithmetic, apart from its drawing so that it can be tested alone.

/** One reading of the counters. */
export interface Sample {
  readonly at: number;
  readonly published: number;
  readonly delivered: number;
  /** The instance that answered: each counts its own. */
  readonly instance: string;
}

export interface Rate {
  readonly at: number;
  readonly published: number;
  readonly delivered: number;
}

/**
 * Rates between each reading and the previous one of the same instance: behind a load balancer the
 * readings come from several instances, each counting its own; a restart (counters going back) starts afresh.
 */
export function rates(samples: readonly Sample[]): Rate[] {
  const out: Rate[] = [];
  const previous = new Map<string, Sample>();
  for (const b of samples) {
    const a = previous.get(b.instance);
    previous.set(b.instance, b);
    if (a === undefined) continue;
    const seconds = (b.at - a.at) / 1000;
    if (seconds <= 0 || b.published < a.published || b.delivered < a.delivered) continue;
    out.push({ at: b.at, published: (b.published - a.published) / seconds, delivered: (b.delivered - a.delivered) / seconds });
  }
  return out;
}
