import type { TestSocket } from '../net/ws-client.js';

/** Every entity frame a consumer receives, counted by id, for "each exactly once" assertions. */
export class ReceivedEntities {
  private readonly counts = new Map<string, number>();

  constructor(consumer: TestSocket) {
    consumer.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; id?: string };
      if (frame.type === 'entity' && frame.id) this.counts.set(frame.id, (this.counts.get(frame.id) ?? 0) + 1);
    });
  }

  /** Distinct ids of one source received so far. */
  ids(source: string): string[] {
    return [...this.counts.keys()].filter((id) => id.startsWith(`${source}:`)).sort();
  }

  /** Frames of one source received so far, repeats included. */
  frames(source: string): number {
    return [...this.counts].filter(([id]) => id.startsWith(`${source}:`)).reduce((sum, [, count]) => sum + count, 0);
  }

  /** Ids of one source received more than once. */
  repeated(source: string): string[] {
    return [...this.counts].filter(([id, count]) => id.startsWith(`${source}:`) && count > 1).map(([id]) => id);
  }
}
