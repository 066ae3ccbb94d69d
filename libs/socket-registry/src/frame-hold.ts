/** A frame kept back from a socket, with the entity `seq` it carries (none: an operator's message). */
export interface HeldFrame {
  readonly seq?: number;
  readonly frame: Buffer;
}

/**
 * The frames a socket is sent while it cannot take them yet: a consumer
 * recovering what it missed gets its replay first, then these, so that live
 * entities published during the replay are neither lost nor written out of
 * order. Bounded in bytes: past the bound everything held is let go and the
 * hold reports that it overflowed, for its owner to end the recovery cleanly.
 */
export class FrameHold {
  private frames: HeldFrame[] = [];
  private bytes = 0;
  /** Whether more was held than the bound allows (the held frames are then gone). */
  overflowed = false;
  /** The highest `seq` offered to the hold, kept even after an overflow. */
  highestSeq = 0;

  constructor(private readonly maxBytes: number) {}

  add(frames: readonly HeldFrame[]): void {
    for (const held of frames) {
      if (held.seq !== undefined && held.seq > this.highestSeq) this.highestSeq = held.seq;
      if (this.overflowed) continue;
      this.bytes += held.frame.length;
      if (this.bytes > this.maxBytes) {
        this.overflowed = true;
        this.frames = [];
        continue;
      }
      this.frames.push(held);
    }
  }

  /** Everything held, in the order it was offered; the hold is empty afterwards. */
  take(): HeldFrame[] {
    const frames = this.frames;
    this.frames = [];
    this.bytes = 0;
    return frames;
  }
}
