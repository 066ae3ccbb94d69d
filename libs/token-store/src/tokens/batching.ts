interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Coalesces lookups by key: every key asked for while the event loop works
 * through one round of I/O is fetched in one query, with at most `maxInFlight`
 * queries out at once. A burst of handshakes then costs a few round trips and
 * a few pooled connections, not one of each per handshake, which leaves the
 * pool to publishing.
 */
export class BatchedLookup<T> {
  private pending = new Map<string, Array<Waiter<T | undefined>>>();
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly fetch: (keys: string[]) => Promise<ReadonlyMap<string, T>>,
    private readonly maxBatch = 500,
    private readonly maxInFlight = 1,
  ) {}

  /** The value stored under `key`, or undefined when there is none. */
  load(key: string): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.pending.size > 0 && this.inFlight < this.maxInFlight) {
      const batch = new Map<string, Array<Waiter<T | undefined>>>();
      for (const [key, waiters] of this.pending) {
        if (batch.size >= this.maxBatch) break;
        batch.set(key, waiters);
        this.pending.delete(key);
      }
      this.inFlight++;
      this.fetch([...batch.keys()])
        .then(
          (found) => {
            for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(key));
          },
          (error: unknown) => {
            for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          if (this.pending.size > 0) this.schedule();
        });
    }
  }
}

/**
 * Gathers keys to be written the same way (the idle clock of every consumer
 * that connected or left) and writes them together, `delayMs` after the first
 * of a batch arrived or as soon as `maxBatch` are waiting. Each caller's
 * promise settles when its key has been written.
 */
export class BatchedWrite {
  private pending = new Set<string>();
  private waiters: Array<Waiter<void>> = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly write: (keys: string[]) => Promise<void>,
    private readonly delayMs: number,
    private readonly maxBatch = 1_000,
  ) {}

  add(key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.add(key);
      this.waiters.push({ resolve, reject });
      if (this.pending.size >= this.maxBatch) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    });
  }

  /** Writes whatever is waiting now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const keys = [...this.pending];
    const waiters = this.waiters;
    this.pending = new Set();
    this.waiters = [];
    try {
      await this.write(keys);
      for (const waiter of waiters) waiter.resolve();
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
    }
  }
}
