import { Backoff, type Clock, sleep } from '@app/platform';

/** A message on its way to `EntityPublisher.publish`. */
export interface RelayItem {
  readonly id: string;
  /** A JSON text. */
  readonly dataText: string;
}

export interface RelayLimits {
  /** Reading from the socket pauses at this many messages (or bytes) waiting, and resumes once half of them are out. */
  readonly pauseAtMessages: number;
  readonly pauseAtBytes: number;
  /** More than this waiting (what arrived after the pause, read before it took effect) is dropped. */
  readonly maxMessages: number;
  readonly maxBytes: number;
}

export const RELAY_LIMITS: RelayLimits = { pauseAtMessages: 256, pauseAtBytes: 8 * 1_048_576, maxMessages: 1_024, maxBytes: 32 * 1_048_576 };

/** What the queue does to the socket it reads from. */
export interface RelayFlow {
  pause(): void;
  resume(): void;
  /** A message over the bound, not relayed. */
  dropped(item: RelayItem): void;
  /** A publish failed; it is retried after `retryInMs`. */
  failed(item: RelayItem, error: unknown, retryInMs: number): void;
}

/**
 * The messages of one outbound socket waiting to be published, published one
 * at a time in arrival order, so that consumers get them in the order the
 * feed sent them, with increasing `seq`. A publish that fails is retried (with
 * backoff, the same id: a retry of one that got through after all is a
 * duplicate, not a second entity) before the next is tried. While too many
 * wait, the socket is not read: TCP makes the feed wait, and memory stays
 * bounded.
 */
export class RelayQueue {
  private readonly items: RelayItem[] = [];
  private bytes = 0;
  private running = false;
  private stopped = false;
  private pausedReading = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly publish: (item: RelayItem) => Promise<void>,
    private readonly flow: RelayFlow,
    private readonly clock: Clock,
    private readonly limits: RelayLimits = RELAY_LIMITS,
    private readonly retry = new Backoff({ initialDelayMs: 500, maxDelayMs: 30_000 }),
  ) {}

  /** Whether reading is paused: a socket opened meanwhile starts paused. */
  get paused(): boolean {
    return this.pausedReading;
  }

  get waiting(): number {
    return this.items.length;
  }

  push(item: RelayItem): void {
    if (this.stopped) return;
    if (this.items.length >= this.limits.maxMessages || this.bytes + item.dataText.length > this.limits.maxBytes) {
      this.flow.dropped(item);
      return;
    }
    this.items.push(item);
    this.bytes += item.dataText.length;
    if (!this.pausedReading && (this.items.length >= this.limits.pauseAtMessages || this.bytes >= this.limits.pauseAtBytes)) {
      this.pausedReading = true;
      this.flow.pause();
    }
    if (!this.running) void this.run();
  }

  /** Drops what waits and publishes nothing more. */
  stop(): void {
    this.stopped = true;
    this.items.length = 0;
    this.bytes = 0;
    this.abort.abort();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.items.length > 0 && !this.stopped) {
        const item = this.items[0];
        try {
          await this.publish(item);
          this.retry.succeed();
        } catch (error) {
          const wait = this.retry.fail();
          this.flow.failed(item, error, wait);
          await sleep(wait, this.abort.signal, this.clock);
          continue;
        }
        if (this.stopped) return;
        this.items.shift();
        this.bytes -= item.dataText.length;
        if (this.pausedReading && this.items.length <= this.limits.pauseAtMessages / 2 && this.bytes <= this.limits.pauseAtBytes / 2) {
          this.pausedReading = false;
          this.flow.resume();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
