import { consumerHeaders, type Refusal, TestSocket } from '../net/ws-client.js';
import { ADMIN_TOKEN, type Consumer, uniqueClientId } from '../processes/experience-api.js';
import { eventually } from '../time/eventually.js';
import type { ExperienceApiProcess } from './experience-api-process.js';

export const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** Creates a client through one instance's admin API and registers it as a consumer there. */
export async function createConsumer(instance: ExperienceApiProcess, options: { groups?: string[] } = {}): Promise<Consumer> {
  const clientId = uniqueClientId();
  const created = await instance.http
    .post('/admin/clients')
    .set(admin)
    .send({ client_id: clientId, ...(options.groups ? { groups: options.groups } : {}) })
    .expect(201);
  const registered = await instance.http.post('/consumers').set('client_id', clientId).set('client_secret', created.body.client_secret).expect(201);
  return { clientId, clientSecret: created.body.client_secret, token: registered.body.token };
}

/** Registers the consumer again on `instance` (which rotates its token): the new token. */
export async function registerAgain(instance: ExperienceApiProcess, consumer: Consumer): Promise<Consumer> {
  const registered = await instance.http.post('/consumers').set('client_id', consumer.clientId).set('client_secret', consumer.clientSecret).expect(201);
  return { ...consumer, token: registered.body.token };
}

/** The refusal of a handshake with these credentials on `instance`. */
export function refusal(instance: ExperienceApiProcess, consumer: Consumer): Promise<Refusal> {
  return TestSocket.refusal(instance.publishUrl, { headers: consumerHeaders(consumer.clientId, consumer.token) });
}

/** An entity frame as a consumer received it. */
export interface ReceivedEntity {
  readonly id: string;
  readonly seq: number;
  readonly groups: string[];
  readonly data: unknown;
}

export interface Welcome {
  readonly type: 'welcome';
  readonly socket_id: string;
  readonly client_id: string;
  readonly groups: string[];
}

/** A consumer connected to one instance, recording every entity frame it receives, in order, and how its socket closed. */
export class ConnectedConsumer {
  readonly entities: ReceivedEntity[] = [];
  /** The data of each `message` frame (an operator's send or broadcast), in order. */
  readonly messages: unknown[] = [];
  /** Pings the server sent (its heartbeat); `ws` answers each with a pong by itself. */
  pings = 0;
  private closeEvent?: { code: number; reason: string };
  /** When the handshake completed (Date.now()). */
  readonly connectedAt = Date.now();

  private constructor(
    readonly credentials: Consumer,
    readonly instance: ExperienceApiProcess,
    readonly socket: TestSocket,
    readonly welcome: Welcome,
  ) {
    socket.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string } & ReceivedEntity;
      if (frame.type === 'entity') this.entities.push({ id: frame.id, seq: frame.seq, groups: frame.groups, data: frame.data });
      else if (frame.type === 'message') this.messages.push(frame.data);
    });
    socket.socket.on('ping', () => this.pings++);
    void socket.closed.then((event) => (this.closeEvent = event));
  }

  /** Connects; rejects with the Refusal if the handshake is refused. */
  static async open(instance: ExperienceApiProcess, credentials: Consumer): Promise<ConnectedConsumer> {
    const socket = await TestSocket.open(instance.publishUrl, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    const welcome = await socket.next<Welcome>();
    if (welcome.type !== 'welcome') throw new Error(`the first frame is not a welcome: ${JSON.stringify(welcome)}`);
    return new ConnectedConsumer(credentials, instance, socket, welcome);
  }

  /**
   * Connects, retrying while the handshake is refused with 409: the client's previous connection
   * is still claimed (its instance has not released it yet, or died and its lease has not run out).
   * Any other refusal fails at once.
   */
  static async openWhenFree(instance: ExperienceApiProcess, credentials: Consumer, timeoutMs = 10_000): Promise<ConnectedConsumer> {
    let opened: ConnectedConsumer | undefined;
    await eventually(
      async () => {
        opened = await ConnectedConsumer.open(instance, credentials).catch((error: Partial<Refusal>) => {
          if (error.status === 409) return undefined;
          throw error;
        });
        return opened !== undefined;
      },
      timeoutMs,
      100,
      `a connection of ${credentials.clientId} to ${instance.name} past 409`,
    );
    return opened!;
  }

  /** How the socket closed; undefined while it is open. */
  get closed(): { code: number; reason: string } | undefined {
    return this.closeEvent;
  }

  get open(): boolean {
    return this.closeEvent === undefined && this.socket.socket.readyState === this.socket.socket.OPEN;
  }

  /** The entities received whose id starts with `prefix`, in the order they came. */
  of(prefix: string): ReceivedEntity[] {
    return this.entities.filter((entity) => entity.id.startsWith(prefix));
  }

  /** How many times the entity `id` was received. */
  count(id: string): number {
    return this.entities.filter((entity) => entity.id === id).length;
  }

  /** Waits until the entity `id` has been received. */
  received(id: string, timeoutMs = 10_000): Promise<void> {
    return eventually(() => this.count(id) > 0, timeoutMs, 20, `${this.credentials.clientId} on ${this.instance.name} receiving ${id}`);
  }

  /** Resolves with the close event once the server has closed the socket; rejects if it is still open after `timeoutMs`. */
  closedByServer(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.toString()} is still open after ${timeoutMs} ms`)), timeoutMs);
      void this.socket.closed.then((event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
  }

  async close(): Promise<void> {
    if (this.socket.socket.readyState === this.socket.socket.CLOSED) return;
    this.socket.socket.terminate();
    await this.socket.closed;
  }

  toString(): string {
    return `${this.credentials.clientId} on ${this.instance.name}`;
  }
}

/**
 * What is wrong with what a consumer received, compared with the entities the cluster accepted:
 * ids received twice, ids missing, a seq other than the one the POST answered, frames out of seq
 * order, and (unless `allowOthers`) ids that were not accepted. Empty when all is well.
 */
export function deliveryProblems(received: readonly ReceivedEntity[], accepted: ReadonlyArray<{ id: string; seq: number }>, allowOthers = false): string[] {
  const problems: string[] = [];
  const first = (ids: string[]) => `${ids.length}: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`;
  const counts = new Map<string, number>();
  for (const entity of received) counts.set(entity.id, (counts.get(entity.id) ?? 0) + 1);
  const repeated = [...counts].filter(([, count]) => count > 1).map(([id]) => id);
  if (repeated.length > 0) problems.push(`received more than once ${first(repeated)}`);
  const missing = accepted.filter((entity) => !counts.has(entity.id)).map((entity) => entity.id);
  if (missing.length > 0) problems.push(`missing ${first(missing)}`);
  const seqOf = new Map(accepted.map((entity) => [entity.id, entity.seq]));
  const wrongSeq = received
    .filter((entity) => seqOf.has(entity.id) && seqOf.get(entity.id) !== entity.seq)
    .map((e) => `${e.id} (${e.seq}, answered ${seqOf.get(e.id)})`);
  if (wrongSeq.length > 0) problems.push(`with another seq than the POST answered ${first(wrongSeq)}`);
  const outOfOrder = received.filter((entity, i) => i > 0 && entity.seq <= received[i - 1].seq).map((e) => `${e.id} (seq ${e.seq})`);
  if (outOfOrder.length > 0) problems.push(`not after the frame before in seq order ${first(outOfOrder)}`);
  if (!allowOthers) {
    const others = [...counts.keys()].filter((id) => !seqOf.has(id));
    if (others.length > 0) problems.push(`never accepted ${first(others)}`);
  }
  return problems;
}
