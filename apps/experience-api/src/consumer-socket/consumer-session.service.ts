import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { WebSocket } from 'ws';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock, type TimerHandle } from '@app/platform';
import { FrameHold, type HeldFrame, RegisteredSocket, SocketRegistry } from '@app/socket-registry';
import { ConsumerTokenService, LiveSocketService } from '@app/token-store';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { EntityHistory, type Recovery } from '../history/entity-history.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { CloseCode, CONSUMER_PATH, ConsumerErrorCode, consumerSockets, errorFrame, welcomeFrame, type WelcomePosition } from '../protocol/index.js';
import { onOversizeFrame, PAYLOAD_TOO_LARGE } from '../websocket-transport/oversize-frames.js';
import { PingAllowance } from '../websocket-transport/ping-allowance.js';
import { SocketEvent, type SocketRef } from '../socket-events/socket-events.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import type { ConsumerAuthorization } from './consumer-handshake.guard.js';

/** What a consumer did wrong, and what it and DevOps are told. */
interface Violation {
  readonly code: ConsumerErrorCode;
  readonly message: string;
  readonly closeCode: number;
  readonly closeReason: string;
  readonly alertKind: string;
  readonly alertSubject: string;
}

/** What a consumer can do wrong on one path. */
interface PathViolations {
  /** A message on a path where consumers only listen. */
  readonly sentMessage: Violation;
  readonly oversizeFrame: Violation;
  readonly floodedPings: Violation;
  /** More messages than allowed, on a path where consumers may send. */
  readonly floodedMessages: Violation;
}

function violationsOn(path: string, messagesAllowed: boolean): PathViolations {
  const sentMessage: Violation = {
    code: ConsumerErrorCode.MESSAGES_NOT_ALLOWED,
    message: `consumers may not send messages on ${path}`,
    closeCode: CloseCode.POLICY_VIOLATION,
    closeReason: 'messages not allowed',
    alertKind: 'consumer_message',
    alertSubject: `consumers sent messages on ${path}`,
  };
  return {
    sentMessage,
    oversizeFrame: {
      ...sentMessage,
      code: ConsumerErrorCode.MESSAGE_TOO_LARGE,
      message: messagesAllowed ? `a message over the size limit of ${path}` : `a message over the size limit; consumers may not send messages on ${path}`,
      closeCode: CloseCode.MESSAGE_TOO_BIG,
      closeReason: 'message too big',
      ...(messagesAllowed ? { alertKind: 'consumer_message_too_large', alertSubject: `consumers sent messages over the size limit on ${path}` } : {}),
    },
    floodedPings: {
      code: ConsumerErrorCode.TOO_MANY_PINGS,
      message: 'more pings than the server answers',
      closeCode: CloseCode.POLICY_VIOLATION,
      closeReason: 'too many pings',
      alertKind: 'consumer_ping_flood',
      alertSubject: `consumers flooded ${path} with pings`,
    },
    floodedMessages: {
      code: ConsumerErrorCode.TOO_MANY_MESSAGES,
      message: `more messages than ${path} takes`,
      closeCode: CloseCode.POLICY_VIOLATION,
      closeReason: 'too many messages',
      alertKind: 'consumer_message_flood',
      alertSubject: `consumers flooded ${path} with messages`,
    },
  };
}

const LISTEN_ONLY = violationsOn(CONSUMER_PATH, false);

/** Connections and disconnections are logged as one line per this period; each one alone only at debug level. */
const CONNECTION_LOG_MS = 1_000;
/** How long a new socket waits for the instance to find its place in the stream (the cluster's, at start) before it is asked to come back. */
const HISTORY_READY_WAIT_MS = 5_000;
const OVERFLOW_MESSAGE = 'live entities outgrew the hold during the replay; reconnect with the last seq received';

/**
 * The life of one consumer connection after its handshake: registration with
 * its groups, the welcome frame, the rule that consumers only listen, and the
 * release of its live-socket claim when it goes.
 */
@Injectable()
export class ConsumerSessionService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ConsumerSessionService.name);
  private shuttingDown = false;
  private connectedSinceReport = 0;
  private disconnectedSinceReport = 0;
  private reportTimer?: TimerHandle;
  /** Sockets already closed for a violation: ws may report one violation twice (hook and 'error'). */
  private readonly refused = new WeakSet<RegisteredSocket>();
  private readonly inboundViolations = new Map<string, PathViolations>();
  /** Each open consumer socket's entry, for the shared listeners below. */
  private readonly sockets = new WeakMap<WebSocket, ConsumerSocket>();
  /** Listeners every consumer socket shares; `ws` calls them with the socket as `this`. */
  private readonly onMessage = shared(this.sockets, (entry, data: Buffer, binary: boolean) => this.received(entry, data, binary));
  private readonly onPing = shared(this.sockets, (entry, data: Buffer) => this.answerPing(entry, data));
  private readonly onError = shared(this.sockets, (entry, error: Error & { code?: string }) => this.failed(entry, error));
  private readonly onClose = shared(this.sockets, (entry, code: number, reason: Buffer) => void this.closed(entry, code, reason.toString()));

  constructor(
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    private readonly registry: SocketRegistry,
    private readonly tokens: ConsumerTokenService,
    private readonly liveSockets: LiveSocketService,
    private readonly metrics: GatewayMetrics,
    private readonly alerts: AlertService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly http: HttpAdapterHost,
    private readonly events: SocketEvents,
    private readonly history: EntityHistory,
  ) {}

  /**
   * Takes a consumer's socket over after its handshake. On `/ws/publish` it
   * only listens; on an inbound path (INBOUND_PATHS) each message it sends,
   * within `INBOUND_MESSAGES_PER_SECOND`, fires the inbound-message trigger.
   */
  open(socket: WebSocket, consumer: ConsumerAuthorization, path = CONSUMER_PATH): void {
    const messagesAllowed = path !== CONSUMER_PATH;
    const entry = new ConsumerSocket(
      consumer.socketId,
      path,
      consumer.clientId,
      consumer.remoteAddress,
      socket,
      messagesAllowed ? this.violationsOn(path) : LISTEN_ONLY,
      messagesAllowed ? new PingAllowance(this.config.inboundMessagesPerSecond, this.clock) : undefined,
    );
    const welcomeNow = consumer.recovery === undefined && this.history.ready;
    // held from the moment it can be delivered to: nothing published meanwhile is lost or sent ahead of the welcome
    if (!welcomeNow) entry.hold = new FrameHold(this.config.maxBufferedBytes);
    this.registry.add(entry, consumer.groups);
    const upTo = this.history.ready ? this.history.deliveredSeq : undefined;
    // the listeners are the same functions for every socket, which they find their entry by: nothing is allocated per socket for them
    this.sockets.set(socket, entry);
    socket.on('message', this.onMessage);
    socket.on('ping', this.onPing);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    onOversizeFrame(socket, () => this.refuse(entry, entry.violations.oversizeFrame));
    if (welcomeNow) socket.send(welcomeFrame(entry.id, consumer.clientId, [...entry.groups], { lastSeq: upTo!, epoch: this.history.epoch }));
    else void this.recover(entry, consumer, upTo);
    if (this.events.listened(SocketEvent.CONNECTED)) {
      this.events.emit(SocketEvent.CONNECTED, { ...socketRef(entry), groups: [...entry.groups], connectedAt: entry.connectedAt.toISOString() });
    }
    this.tokens.touch(consumer.clientId).catch((error: Error) => this.logger.warn(`could not refresh token idle clock: ${error.message}`));
    this.logger.debug(`consumer ${consumer.clientId} connected as ${entry.id} from ${consumer.remoteAddress}`);
    this.connectedSinceReport++;
    this.scheduleReport();
  }

  /** A message from the consumer; what arrives after a close was sent is the peer's backlog, not a new violation. */
  private received(entry: ConsumerSocket, data: Buffer, binary: boolean): void {
    const { socket, violations, messages } = entry;
    if (socket.readyState !== socket.OPEN) return;
    if (!messages) return this.refuse(entry, violations.sentMessage);
    if (!messages.tryTake()) return this.refuse(entry, violations.floodedMessages);
    this.events.emit(SocketEvent.INBOUND_MESSAGE, { ...socketRef(entry), data: binary ? data : data.toString('utf8'), binary });
  }

  private failed(entry: ConsumerSocket, error: Error & { code?: string }): void {
    if (error.code === PAYLOAD_TOO_LARGE) this.refuse(entry, entry.violations.oversizeFrame);
    else this.logger.warn(`socket ${entry.id} of client ${entry.clientId}: ${error.message}`);
  }

  /**
   * Welcomes a held socket once its place in the stream is known: replays
   * what it missed (if it said where it stopped and history has it all), then
   * what was held meanwhile, minus anything already sent, and lets it go
   * live. A replay that cannot be finished closes the socket with 1013, for
   * it to reconnect from the last seq it received.
   */
  private async recover(entry: RegisteredSocket, consumer: ConsumerAuthorization, heldFrom: number | undefined): Promise<void> {
    const { socket } = entry;
    const hold = entry.hold!;
    try {
      if (!this.history.ready) await this.readyOrTimeout();
      const upTo = heldFrom ?? this.history.deliveredSeq;
      let recovery: Recovery | undefined = consumer.recovery && (await this.history.recover({ ...consumer.recovery, upTo, groups: [...entry.groups] }));
      if (socket.readyState !== socket.OPEN) return;
      // live entities outgrew the hold while history was read: this connection cannot close the gap
      if (recovery?.recovered && hold.overflowed) recovery = { recovered: false, reason: 'too_many' };
      let floor = recovery?.recovered ? recovery.floor : upTo;
      const position: WelcomePosition = {
        lastSeq: Math.max(floor, hold.highestSeq),
        epoch: this.history.epoch,
        recovery: recovery && (recovery.recovered ? { recovered: true, missed: recovery.missed } : { recovered: false, reason: recovery.reason }),
      };
      socket.send(welcomeFrame(entry.id, consumer.clientId, [...entry.groups], position));
      if (recovery) this.metrics.recoveries.inc({ outcome: recovery.recovered ? 'recovered' : recovery.reason });
      if (recovery?.recovered) {
        this.metrics.recoveredEntities.inc(recovery.missed);
        for await (const page of recovery.replay) {
          const frames = page.map((missed) => missed.frame);
          if (!(await this.registry.writeFrames(entry, frames))) return;
          floor = Math.max(floor, page[page.length - 1].seq);
          if (hold.overflowed) return this.abortRecovery(entry, ConsumerErrorCode.RECOVERY_OVERFLOW, OVERFLOW_MESSAGE);
        }
      }
      // the hold goes in the same turn as its frames are written: nothing can slip between them
      const held = hold.take().filter((frame) => frame.seq === undefined || frame.seq > floor);
      entry.hold = undefined;
      if (held.length > 0) void this.registry.writeFrames(entry, held.map(frameOf));
    } catch (error) {
      this.logger.warn(`could not welcome socket ${entry.id} of client ${consumer.clientId}: ${(error as Error).message}`);
      if (consumer.recovery) this.metrics.recoveries.inc({ outcome: 'failed' });
      this.abortRecovery(entry, ConsumerErrorCode.RECOVERY_UNAVAILABLE, 'the history could not be read; reconnect with the last seq received');
    }
  }

  private async readyOrTimeout(): Promise<void> {
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.clock.setTimer(() => reject(new Error('this instance has not yet found its place in the entity stream')), HISTORY_READY_WAIT_MS);
    });
    try {
      await Promise.race([this.history.whenReady(), timedOut]);
    } finally {
      this.clock.clearTimer(timer!);
    }
  }

  private abortRecovery(entry: RegisteredSocket, code: ConsumerErrorCode, message: string): void {
    entry.hold = undefined;
    const { socket } = entry;
    if (socket.readyState !== socket.OPEN) return;
    socket.send(errorFrame(code, message));
    socket.close(CloseCode.TRY_AGAIN_LATER, code);
  }

  private violationsOn(path: string): PathViolations {
    let violations = this.inboundViolations.get(path);
    if (!violations) this.inboundViolations.set(path, (violations = violationsOn(path, true)));
    return violations;
  }

  /** A line per connection would cost more than the connection itself in a reconnect storm; a line per second does not. */
  private scheduleReport(): void {
    if (this.reportTimer) return;
    this.reportTimer = this.clock.setTimer(() => {
      this.reportTimer = undefined;
      this.logger.log(
        `consumers: ${this.connectedSinceReport} connected, ${this.disconnectedSinceReport} disconnected in the last ` +
          `${CONNECTION_LOG_MS / 1_000} s; ${this.registry.size} sockets open`,
      );
      this.connectedSinceReport = 0;
      this.disconnectedSinceReport = 0;
    }, CONNECTION_LOG_MS);
  }

  /**
   * Pings are answered here rather than by `ws` (autoPong is off), so that a
   * peer that pings faster than it is allowed, or stops reading our pongs,
   * cannot grow our send buffer: over the allowance it is refused and dropped.
   */
  private answerPing(entry: ConsumerSocket, data: Buffer): void {
    const { socket } = entry;
    if (socket.readyState !== socket.OPEN) return;
    // made at the first ping: most consumers never ping, and an allowance per socket would be memory for nothing
    entry.pings ??= new PingAllowance(this.config.maxPingsPerSecond, this.clock);
    if (!entry.pings.tryTake()) {
      this.refuse(entry, entry.violations.floodedPings);
      // a flooder is not waited on for its close frame: reading on would keep paying for the flood
      socket.terminate();
      return;
    }
    socket.pong(data);
    this.registry.dropIfSlow(entry);
  }

  /**
   * Consumers only listen on /ws/publish, and speak within limits on an
   * inbound path; one that breaks the rule of its path (a message, a frame
   * over the size limit, a flood of pings or messages) is told why in an
   * error frame and closed, and DevOps hear of it.
   */
  private refuse(entry: RegisteredSocket, violation: Violation): void {
    if (this.refused.has(entry)) return;
    this.refused.add(entry);
    this.metrics.consumerViolations.inc();
    this.logger.warn(`consumer ${entry.clientId} on ${entry.path}: ${violation.code}; closing socket ${entry.id} with ${violation.closeCode}`);
    this.alerts.raise({
      kind: violation.alertKind,
      severity: 'warning',
      subject: violation.alertSubject,
      details: { client_id: entry.clientId, socket_id: entry.id, remote_address: entry.remoteAddress, reason: violation.code },
    });
    if (entry.socket.readyState === entry.socket.OPEN) {
      entry.socket.send(errorFrame(violation.code, violation.message));
      entry.socket.close(violation.closeCode, violation.closeReason);
    }
    // the socket id goes now, not when the peer gets round to answering the close; so does its trigger, with the close it was sent
    this.events.emit(SocketEvent.CLOSED, { ...socketRef(entry), code: violation.closeCode, reason: violation.closeReason });
    void this.forget(entry);
  }

  private async closed(entry: ConsumerSocket, code: number, reason: string): Promise<void> {
    if (this.sockets.get(entry.socket) !== entry) return;
    this.sockets.delete(entry.socket);
    this.logger.debug(`consumer ${entry.clientId} disconnected (${code}), socket ${entry.id}`);
    // a refused socket's trigger went when it was refused
    if (!this.refused.has(entry) && this.events.listened(SocketEvent.CLOSED)) this.events.emit(SocketEvent.CLOSED, { ...socketRef(entry), code, reason });
    this.disconnectedSinceReport++;
    this.scheduleReport();
    await this.forget(entry);
  }

  /** Drops the socket from the registry and releases its live-socket claim, once. */
  private async forget(entry: RegisteredSocket): Promise<void> {
    if (!this.registry.remove(entry.id)) return;
    // at shutdown the instance's claims are released all at once
    if (this.shuttingDown || entry.clientId === null) return;
    try {
      await this.liveSockets.release(entry.clientId, entry.id);
      await this.tokens.touch(entry.clientId);
    } catch (error) {
      this.logger.warn(`could not release socket ${entry.id} of client ${entry.clientId}: ${(error as Error).message}`);
    }
  }

  /**
   * A stopping instance hands its consumers over: it stops accepting
   * connections, releases their live-socket claims, then closes them with
   * `1012`, so that each can reconnect (through the load balancer, to another
   * instance) at once, without a `409` while its lease runs out.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.reportTimer) this.clock.clearTimer(this.reportTimer);
    // open connections are served on; a new one finds no listener (a load balancer's health check sees it too)
    this.http.httpAdapter?.getHttpServer().close();
    await this.liveSockets.releaseAll();
    this.registry.close(consumerSockets(), CloseCode.SERVICE_RESTART, 'server restarting');
  }
}

/** A consumer's socket with what its listeners need. */
class ConsumerSocket extends RegisteredSocket {
  /** The pings it may send, made at its first ping. */
  pings?: PingAllowance;

  constructor(
    id: string,
    path: string,
    clientId: string,
    remoteAddress: string,
    socket: WebSocket,
    readonly violations: PathViolations,
    /** The messages it may send; undefined where consumers only listen. */
    readonly messages: PingAllowance | undefined,
  ) {
    super(id, 'inbound', path, clientId, remoteAddress, socket);
  }
}

/**
 * Turns a handler that takes a socket's entry into a listener that `ws` calls
 * with the socket as `this`: one function for every socket, instead of a
 * closure per socket.
 */
function shared<A extends unknown[]>(
  sockets: WeakMap<WebSocket, ConsumerSocket>,
  handler: (entry: ConsumerSocket, ...args: A) => void,
): (this: WebSocket, ...args: A) => void {
  return function (this: WebSocket, ...args: A): void {
    const entry = sockets.get(this);
    if (entry) handler(entry, ...args);
  };
}

function frameOf(held: HeldFrame): Buffer {
  return held.frame;
}

/** What a trigger says of the socket it is about. */
function socketRef(entry: RegisteredSocket): SocketRef {
  return { socketId: entry.id, type: entry.type, path: entry.path, clientId: entry.clientId, remoteAddress: entry.remoteAddress };
}
