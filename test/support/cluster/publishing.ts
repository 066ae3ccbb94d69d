import type { ExperienceApiProcess } from './experience-api-process.js';

/** One `POST /entity` answer. */
export interface PostAnswer {
  readonly status: number;
  readonly body: { id?: string; seq?: number; duplicate?: boolean; error?: string; message?: string };
  readonly retryAfter: string | null;
}

/** Posts one entity to an instance, as a back end does (over a kept-alive connection); rejects if no answer comes within `timeoutMs`. */
export async function postEntity(
  instance: ExperienceApiProcess,
  entity: { id?: string; groups?: string[]; data: unknown },
  timeoutMs = 10_000,
): Promise<PostAnswer> {
  const response = await fetch(`${instance.httpUrl}/entity`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(entity),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: PostAnswer['body'];
  try {
    body = JSON.parse(text) as PostAnswer['body'];
  } catch {
    body = { message: text };
  }
  return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
}

/** An entity the cluster accepted (202). */
export interface Accepted {
  readonly id: string;
  readonly seq: number;
  readonly instance: string;
  /** When its POST was sent (Date.now()). */
  readonly postedAt: number;
}

/**
 * A back end publishing without pause: `concurrency` posts in flight at once, spread round-robin
 * over the instances `targets()` names at each post, ids `<prefix><n>`. It records what was
 * accepted (202) and counts every other outcome; it does not retry.
 */
export class EntityStream {
  readonly accepted: Accepted[] = [];
  /** Answers by status; `error` counts posts that got no answer (refused or reset connection, timeout). */
  readonly outcomes = new Map<number | 'error', number>();
  private next = 0;
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly prefix: string,
    private readonly targets: () => ExperienceApiProcess[],
    private readonly concurrency = 4,
    /** Pause of each worker between its posts, to keep the load steady rather than maximal. */
    private readonly paceMs = 5,
  ) {}

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
  }

  /** Stops posting and waits for the posts in flight to be answered. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Accepted entities in seq order. */
  inSeqOrder(): Accepted[] {
    return [...this.accepted].sort((x, y) => x.seq - y.seq);
  }

  describe(): string {
    return `${this.accepted.length} accepted; outcomes ${JSON.stringify(Object.fromEntries(this.outcomes))}`;
  }

  private async work(): Promise<void> {
    while (this.running) {
      const n = this.next++;
      const targets = this.targets();
      const instance = targets[n % targets.length];
      const id = `${this.prefix}${n}`;
      const postedAt = Date.now();
      try {
        const answer = await postEntity(instance, { id, data: { n } });
        this.outcomes.set(answer.status, (this.outcomes.get(answer.status) ?? 0) + 1);
        if (answer.status === 202) this.accepted.push({ id, seq: answer.body.seq!, instance: instance.name, postedAt });
      } catch {
        this.outcomes.set('error', (this.outcomes.get('error') ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, this.paceMs));
    }
  }
}
