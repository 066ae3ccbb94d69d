import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import {
  type BroadcastResult,
  type Delivery,
  DeliveryBus,
  InProcessDeliveryBus,
  type SocketInfo,
  type SocketPage,
  type SocketSelector,
  SocketRegistry,
} from '@app/socket-registry';
import { CLOCK, type Clock } from '@app/platform';
import { experienceConfig } from '../config/experience.config.js';
import { ClusterUnavailableError } from './cluster-unavailable.error.js';
import { RedisConnection } from './redis-connection.js';

const NOT_DONE = 'nothing was done';

/** A socket operation as it travels between instances. */
type Operation =
  | { readonly kind: 'deliver'; readonly deliveries: ReadonlyArray<{ readonly frame: string; readonly selector: SocketSelector }> }
  | { readonly kind: 'revoke'; readonly selector: SocketSelector; readonly grants: readonly string[] }
  | { readonly kind: 'close'; readonly selector: SocketSelector; readonly code: number; readonly reason: string }
  | { readonly kind: 'list'; readonly selector: SocketSelector; readonly page: SocketPage }
  | { readonly kind: 'groups'; readonly socketId: string; readonly change: 'join' | 'leave'; readonly groups: readonly string[] };

interface Request {
  readonly ref: string;
  readonly from: string;
  readonly operation: Operation;
}

/** A delivery's result as JSON carries it: an error travels as its message. */
interface WireDelivery {
  readonly recipients: number;
  readonly failures: BroadcastResult['failures'];
  readonly error?: string;
}

/** An instance's result: deliveries, a count (revoke, close), sockets (list), groups or null (groups). */
type WireResult = number | readonly WireDelivery[] | readonly SocketInfo[] | readonly string[] | null;

interface Reply {
  readonly ref: string;
  readonly result: WireResult;
}

interface Waiting {
  readonly results: WireResult[];
  expected: number;
  readonly done: () => void;
}

/**
 * Socket operations across every instance of a cluster: each is applied to
 * this instance's sockets, published on the operations channel, applied by
 * every other instance to its own, and answered on the asker's reply
 * channel. The caller gets the sum, once as many answers came as Redis
 * counted subscribers (or the operation timeout passed: an instance that
 * died meanwhile does not hold it up).
 *
 * An operation on one socket by id goes to every instance the same way:
 * whichever holds the socket acts, the others find nothing.
 *
 * With Redis out of reach, an operation is refused with
 * ClusterUnavailableError before it acts anywhere, so that a refusal means
 * nothing changed. Should Redis go away between this instance acting and
 * the others being asked, the error says what was done.
 */
@Injectable()
export class RedisDeliveryBus extends DeliveryBus implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedisDeliveryBus.name);
  private readonly local: InProcessDeliveryBus;
  private readonly channel: string;
  private readonly replyChannel: string;
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    registry: SocketRegistry,
    private readonly redis: RedisConnection,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
    this.local = new InProcessDeliveryBus(registry);
    this.channel = `${config.cluster!.keyPrefix}socket-operations`;
    this.replyChannel = `${this.channel}:replies:${config.instanceId}`;
  }

  onApplicationBootstrap(): void {
    // not awaited: with Redis down at start, the subscriptions are made when it comes up
    for (const [channel, handler] of [
      [this.channel, (message: Buffer) => void this.applyRequest(message)],
      [this.replyChannel, (message: Buffer) => this.collectReply(message)],
    ] as const) {
      this.redis.subscribe(channel, handler).catch((error: Error) => this.logger.error(`could not subscribe to ${channel}: ${error.message}`));
    }
  }

  async broadcastAll(deliveries: readonly Delivery[]): Promise<BroadcastResult[]> {
    const operation: Operation = {
      kind: 'deliver',
      deliveries: deliveries.map((delivery) => ({ frame: delivery.frame.toString('base64'), selector: delivery.selector })),
    };
    const results = (await this.everywhere(operation, 'the message was not sent to every instance')) as Array<readonly WireDelivery[]>;
    return deliveries.map((_, i): BroadcastResult => {
      const each = results.map((result) => result[i]);
      const error = each.find((result) => result.error !== undefined)?.error;
      return {
        recipients: each.reduce((sum, result) => sum + result.recipients, 0),
        failures: each.flatMap((result) => result.failures),
        ...(error === undefined ? {} : { error: new Error(error) }),
      };
    });
  }

  async revokeGroups(selector: SocketSelector, grants: readonly string[]): Promise<number> {
    return this.sum(await this.everywhere({ kind: 'revoke', selector, grants }, 'the groups were taken off on this instance only'));
  }

  async close(selector: SocketSelector, code: number, reason: string): Promise<number> {
    return this.sum(await this.everywhere({ kind: 'close', selector, code, reason }, 'sockets were closed on this instance only'));
  }

  async list(selector: SocketSelector, page: SocketPage): Promise<SocketInfo[]> {
    const results = (await this.everywhere({ kind: 'list', selector, page }, 'only the sockets of this instance could be listed')) as Array<
      readonly SocketInfo[]
    >;
    // each instance sent its first page: together, they hold the cluster's
    return results
      .flat()
      .sort((a, b) => (a.socketId < b.socketId ? -1 : a.socketId > b.socketId ? 1 : 0))
      .slice(0, page.limit);
  }

  async changeGroups(socketId: string, change: 'join' | 'leave', groups: readonly string[]): Promise<string[] | undefined> {
    const results = (await this.everywhere({ kind: 'groups', socketId, change, groups }, 'the groups were changed on this instance only')) as Array<
      string[] | null
    >;
    return results.find((result) => result !== null) ?? undefined;
  }

  private sum(results: WireResult[]): number {
    return results.reduce<number>((total, result) => total + (result as number), 0);
  }

  /** This instance's result first, then every other instance's that answered in time. */
  private async everywhere(operation: Operation, partially: string): Promise<WireResult[]> {
    // refused before anything is done: a 503 means nothing changed, on any instance
    if (!this.redis.isReachable) throw new ClusterUnavailableError(NOT_DONE);
    const own = await this.applyLocally(operation);
    const ref = randomUUID();
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const waiting: Waiting = { results: [own], expected: Infinity, done };
    this.waiting.set(ref, waiting);
    const timer = this.clock.setTimer(done, this.config.cluster!.opTimeoutMs);
    try {
      const request: Request = { ref, from: this.config.instanceId, operation };
      const subscribers = await this.redis.commands.publish(this.channel, JSON.stringify(request));
      // this instance's own subscriber is among them, and does not answer
      waiting.expected = subscribers - 1;
      if (waiting.results.length - 1 >= waiting.expected) done();
      await finished;
    } catch (error) {
      throw new ClusterUnavailableError(partially, { cause: error });
    } finally {
      this.clock.clearTimer(timer);
      this.waiting.delete(ref);
    }
    const answered = waiting.results.length - 1;
    if (answered < waiting.expected) {
      this.logger.warn(`a socket operation (${operation.kind}) was answered by ${answered} of ${waiting.expected} other instances in time`);
    }
    return waiting.results;
  }

  private async applyLocally(operation: Operation): Promise<WireResult> {
    switch (operation.kind) {
      case 'deliver': {
        const deliveries = operation.deliveries.map((delivery) => ({ frame: Buffer.from(delivery.frame, 'base64'), selector: delivery.selector }));
        const results = await this.local.broadcastAll(deliveries);
        return results.map((result) => ({ recipients: result.recipients, failures: result.failures, error: result.error?.message }));
      }
      case 'revoke':
        return this.local.revokeGroups(operation.selector, operation.grants);
      case 'close':
        return this.local.close(operation.selector, operation.code, operation.reason);
      case 'list':
        return this.local.list(operation.selector, operation.page);
      case 'groups':
        return (await this.local.changeGroups(operation.socketId, operation.change, operation.groups)) ?? null;
    }
  }

  private async applyRequest(message: Buffer): Promise<void> {
    let request: Request;
    try {
      request = JSON.parse(message.toString()) as Request;
    } catch {
      this.logger.warn('ignored a socket operation that is not JSON');
      return;
    }
    if (request.from === this.config.instanceId) return;
    try {
      const result = await this.applyLocally(request.operation);
      const reply: Reply = { ref: request.ref, result };
      await this.redis.commands.publish(`${this.channel}:replies:${request.from}`, JSON.stringify(reply));
    } catch (error) {
      this.logger.warn(`could not apply or answer a socket operation from instance ${request.from}: ${(error as Error).message}`);
    }
  }

  private collectReply(message: Buffer): void {
    let reply: Reply;
    try {
      reply = JSON.parse(message.toString()) as Reply;
    } catch {
      return;
    }
    const waiting = this.waiting.get(reply.ref);
    if (!waiting) return;
    waiting.results.push(reply.result);
    if (waiting.results.length - 1 >= waiting.expected) waiting.done();
  }
}
