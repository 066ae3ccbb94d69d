import type { Clock } from '@app/platform';
import { entitles, type HistoryEntry } from './history-entry.js';

/** Memory the recent entries may take, whatever their count. */
const MAX_BYTES = 64 * 1_048_576;

/**
 * The entities this instance delivered most recently, newest last, so that a
 * consumer back from a short gap (a blip, a deploy) recovers without the
 * database. Also where the instance's position in the stream is kept: the
 * highest `seq` it has delivered (`deliveredSeq`), which only grows, since
 * every broker delivers in `seq` order.
 *
 * Every entity with a `seq` in (`coveredFrom`, `deliveredSeq`] that was
 * delivered here is in memory; older ones are only in the database.
 */
export class RecentEntities {
  private entries: HistoryEntry[] = [];
  /** Index of the oldest live entry: dropping from the front costs nothing until the array is compacted. */
  private head = 0;
  private bytes = 0;
  private started = false;
  private readonly startWaiters: Array<() => void> = [];
  private readonly seqWaiters: Array<{ readonly seq: number; readonly resolve: () => void }> = [];
  private covered = 0;
  private delivered = 0;

  constructor(private readonly maxEntries: number) {}

  /** Whether the broker has said where the stream stands (see start). */
  get ready(): boolean {
    return this.started;
  }

  get deliveredSeq(): number {
    return this.delivered;
  }

  get coveredFrom(): number {
    return this.covered;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /**
   * Where the stream stands when the broker starts delivering: the newest
   * entries so far (oldest first), and the highest `seq` already delivered or
   * given up on, after which the broker's deliveries follow.
   */
  start(newest: readonly HistoryEntry[], upTo: number): void {
    const kept = newest.slice(Math.max(0, newest.length - this.maxEntries));
    this.entries = [];
    this.head = 0;
    this.bytes = 0;
    this.covered = kept.length > 0 ? kept[0].seq - 1 : upTo;
    this.delivered = Math.max(upTo, kept.length > 0 ? kept[kept.length - 1].seq : 0, this.delivered);
    for (const entry of kept) this.push(entry);
    this.started = true;
    for (const resolve of this.startWaiters.splice(0)) resolve();
    this.wake();
  }

  whenStarted(): Promise<void> {
    return this.started ? Promise.resolve() : new Promise((resolve) => this.startWaiters.push(resolve));
  }

  /** Entities just delivered, in `seq` order. */
  add(entries: readonly HistoryEntry[]): void {
    for (const entry of entries) {
      if (entry.seq <= this.delivered) continue;
      this.delivered = entry.seq;
      this.push(entry);
    }
    this.wake();
  }

  /** The entries in (after, upTo] a consumer in `groups` received live; only what is in memory, see coveredFrom. */
  range(after: number, upTo: number, groups: ReadonlySet<string>): HistoryEntry[] {
    const found: HistoryEntry[] = [];
    for (let i = this.firstAfter(after); i < this.entries.length; i++) {
      const entry = this.entries[i];
      if (entry.seq > upTo) break;
      if (entitles(entry, groups)) found.push(entry);
    }
    return found;
  }

  /** Forgets entries pruned from the history: memory never answers for what the database no longer holds. */
  dropThrough(seq: number): void {
    while (this.head < this.entries.length && this.entries[this.head].seq <= seq) this.dropOldest();
    this.covered = Math.max(this.covered, seq);
    this.compact();
  }

  /** Resolves once `deliveredSeq` reaches `seq`, or with false after `timeoutMs`. */
  waitForSeq(seq: number, timeoutMs: number, clock: Clock): Promise<boolean> {
    if (this.delivered >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        seq,
        resolve: () => {
          clock.clearTimer(timer);
          resolve(true);
        },
      };
      const timer = clock.setTimer(() => {
        const at = this.seqWaiters.indexOf(waiter);
        if (at >= 0) this.seqWaiters.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.seqWaiters.push(waiter);
    });
  }

  private wake(): void {
    if (this.seqWaiters.length === 0) return;
    for (const waiter of this.seqWaiters.filter((waiting) => waiting.seq <= this.delivered)) {
      this.seqWaiters.splice(this.seqWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private push(entry: HistoryEntry): void {
    if (this.maxEntries === 0) {
      this.covered = entry.seq;
      return;
    }
    this.entries.push(entry);
    this.bytes += entry.frame.length;
    while (this.size > this.maxEntries || (this.bytes > MAX_BYTES && this.size > 1)) this.dropOldest();
    this.compact();
  }

  private dropOldest(): void {
    const oldest = this.entries[this.head++];
    this.bytes -= oldest.frame.length;
    this.covered = Math.max(this.covered, oldest.seq);
  }

  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the first live entry with a `seq` above `after` (binary search). */
  private firstAfter(after: number): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle].seq <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
