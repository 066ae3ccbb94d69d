import { consumerHeaders, type Refusal, TestSocket } from '../net/ws-client.js';
import type { Consumer } from '../processes/experience-api.js';
import { eventually } from '../time/eventually.js';
import type { ReceivedEntity } from './consumers.js';
import type { ExperienceApiProcess } from './experience-api-process.js';
import { postEntity } from './publishing.js';

/** A welcome frame with the position fields recovery adds. */
export interface PositionedWelcome {
  readonly type: 'welcome';
  readonly socket_id: string;
  readonly last_seq: number;
  readonly epoch: string;
  readonly recovered?: boolean;
  readonly missed?: number;
  readonly reason?: string;
}

/** An entity frame as this consumer received it, with the instance it came from. */
export interface RecoveredEntity extends ReceivedEntity {
  readonly instance: string;
}

/**
 * A consumer that remembers where it stopped, as docs/protocol.md asks of one, and may come back
 * on any instance of the cluster: it reconnects with `last_seq` (and `epoch`) and keeps, across
 * its connections, every entity frame it received in order of arrival.
 *
 * Client rule: after a welcome with `recovered: true` it does not adopt the welcome's `last_seq`
 * (the missed entities follow and bring it there); otherwise it does. `lastSeq` is the highest
 * entity seq received, or the adopted welcome's if higher.
 */
export class RecoveringConsumer {
  lastSeq = 0;
  epoch?: string;
  /** Every entity received, across connections, in order of arrival. */
  readonly entities: RecoveredEntity[] = [];
  /** Every welcome, with the instance that sent it and the entities received before it. */
  readonly welcomes: Array<{ instance: string; at: number; welcome: PositionedWelcome }> = [];
  /** Handshakes refused with 409 (the client still claimed by a previous connection) before one was accepted. */
  conflicts = 0;
  private socket?: TestSocket;
  private instance?: ExperienceApiProcess;

  constructor(readonly credentials: Consumer) {}

  get seqs(): number[] {
    return this.entities.map((entity) => entity.seq);
  }

  get welcome(): PositionedWelcome {
    if (this.welcomes.length === 0) throw new Error(`${this.credentials.clientId} has not been welcomed`);
    return this.welcomes[this.welcomes.length - 1].welcome;
  }

  /**
   * Connects to `instance` saying where it stopped (unless it never connected, or `fresh`), and
   * takes the welcome. A handshake refused with 409 is tried again for up to `conflictTimeoutMs`;
   * any other refusal fails at once.
   */
  async connect(instance: ExperienceApiProcess, options: { fresh?: boolean; conflictTimeoutMs?: number } = {}): Promise<PositionedWelcome> {
    const fresh = options.fresh ?? this.welcomes.length === 0;
    const headers = {
      ...consumerHeaders(this.credentials.clientId, this.credentials.token),
      ...(fresh ? {} : { last_seq: String(this.lastSeq), ...(this.epoch ? { epoch: this.epoch } : {}) }),
    };
    let socket: TestSocket | undefined;
    await eventually(
      async () => {
        socket = await TestSocket.open(instance.publishUrl, { headers }).catch((error: Partial<Refusal>) => {
          if (error.status !== 409) throw error;
          this.conflicts++;
          return undefined;
        });
        return socket !== undefined;
      },
      options.conflictTimeoutMs ?? 5_000,
      100,
      `a connection of ${this.credentials.clientId} to ${instance.name} past 409`,
    );
    this.socket = socket;
    this.instance = instance;
    const welcome = await socket!.next<PositionedWelcome>(10_000);
    if (welcome.type !== 'welcome') throw new Error(`the first frame from ${instance.name} is not a welcome: ${JSON.stringify(welcome)}`);
    this.welcomes.push({ instance: instance.name, at: this.entities.length, welcome });
    this.epoch = welcome.epoch;
    if (welcome.recovered !== true) this.lastSeq = Math.max(this.lastSeq, welcome.last_seq);
    return welcome;
  }

  /** Takes frames until the entity with `seq` (or a later one) has arrived; fails on any frame that is not an entity. */
  async takeThrough(seq: number, frameTimeoutMs = 10_000): Promise<void> {
    while (this.lastSeq < seq) this.take(await this.current.next(frameTimeoutMs));
  }

  /** Takes what the socket received before the server (or its death) closed it. */
  async drainClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const socket = this.current;
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      socket.closed,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.toString()} is still open after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    while (socket.pending > 0) this.take(await socket.next());
    return closed;
  }

  /** Frames received and not taken yet. */
  get pending(): number {
    return this.socket?.pending ?? 0;
  }

  async disconnect(): Promise<void> {
    await this.socket?.close();
  }

  /** Closes the socket at once, if open (after a test, whatever it did). */
  async close(): Promise<void> {
    if (!this.socket || this.socket.socket.readyState === this.socket.socket.CLOSED) return;
    this.socket.socket.terminate();
    await this.socket.closed;
  }

  toString(): string {
    return `${this.credentials.clientId} on ${this.instance?.name ?? 'no instance'}`;
  }

  private get current(): TestSocket {
    if (!this.socket) throw new Error(`${this.credentials.clientId} is not connected`);
    return this.socket;
  }

  private take(frame: Record<string, unknown>): void {
    if (frame.type !== 'entity') throw new Error(`${this.toString()} received ${JSON.stringify(frame)} where an entity was expected`);
    const seq = frame.seq as number;
    this.entities.push({ id: frame.id as string, seq, groups: frame.groups as string[], data: frame.data, instance: this.instance!.name });
    this.lastSeq = Math.max(this.lastSeq, seq);
  }
}

/** Posts an entity that must be accepted (202): its seq. */
export async function publishAccepted(instance: ExperienceApiProcess, entity: { id?: string; groups?: string[]; data: unknown }): Promise<number> {
  const answer = await postEntity(instance, entity);
  if (answer.status !== 202) throw new Error(`POST /entity on ${instance.name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.seq!;
}

/**
 * Posts `count` entities, a third each to `eu`, to `us` and to everyone, `parallel` at a time, each
 * to the next of `instances` in turn; returns the seqs members of each group are owed, in seq order.
 */
export async function publishMix(
  instances: readonly ExperienceApiProcess[],
  count: number,
  parallel = 10,
): Promise<{ forEu: number[]; forUs: number[]; all: number[] }> {
  const forEu: number[] = [];
  const forUs: number[] = [];
  const all: number[] = [];
  for (let start = 0; start < count; start += parallel) {
    await Promise.all(
      Array.from({ length: Math.min(parallel, count - start) }, async (_, i) => {
        const n = start + i;
        const kind = n % 3;
        const seq = await publishAccepted(instances[n % instances.length], { groups: kind === 0 ? ['eu'] : kind === 1 ? ['us'] : undefined, data: { n } });
        all.push(seq);
        if (kind !== 1) forEu.push(seq);
        if (kind !== 0) forUs.push(seq);
      }),
    );
  }
  const ascending = (seqs: number[]) => seqs.sort((x, y) => x - y);
  return { forEu: ascending(forEu), forUs: ascending(forUs), all: ascending(all) };
}
