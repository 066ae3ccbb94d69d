import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ConfigType } from '@nestjs/config';
import { Counter } from 'prom-client';
import { WebSocket } from 'ws';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock, formatDuration, type TimerHandle } from '@app/platform';
import { SocketRegistry, type SocketState } from '@app/socket-registry';
import { experienceConfig } from '../config/experience.config.js';
import { RawJson } from '../http/raw-json.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { EntityPublisher, InvalidEntityError } from '../publishing/entity-publisher.service.js';
import { PublishEntityDto } from '../publishing/publish-entity.dto.js';
import { SocketEvent, type SocketClosedEvent, type SocketConnectedEvent, type SocketMessageEvent, type SocketRef } from '../socket-events/socket-events.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import { OutboundConnection, type OutboundConnectionEvents } from './outbound-connection.js';
import { loggableUrl, MAX_OUTBOUND_SOCKETS, type OutboundSocketSpec, type StoredOutboundSocket } from './outbound-socket.js';
import { OutboundSocketInUseError, OutboundSocketsStoppingError, TooManyOutboundSocketsError } from './outbound-socket.errors.js';
import { OutboundSocketStore } from './outbound-socket.store.js';
import { RelayQueue, type RelayItem } from './relay-queue.js';

/** The largest message an outbound socket accepts (as POST /entity's body); a larger one closes the connection with 1009, which reconnects. */
export const MAX_OUTBOUND_MESSAGE_BYTES = 1_048_576;
/** How long the peer has to answer the upgrade. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What is asked for when an outbound socket is created; the id is chosen here when absent. */
export type NewOutboundSocket = Omit<OutboundSocketSpec, 'socketId'> & { readonly socketId?: string };

/** An outbound socket as operators see it: stored, with its state and the instance that holds it. */
export interface OutboundSocketView extends StoredOutboundSocket {
  /** Messages received since this instance opened it (null when another instance holds it). */
  readonly messagesReceived: number | null;
}

/**
 * The outbound sockets: stored (so that they survive a restart), each held
 * open by one instance of the cluster through a lease in the database that
 * its holder renews; a lease that lapses (its holder died) is taken over by
 * the next instance that looks, and one given up (its holder stopped) at once.
 *
 * Whoever creates a socket holds it first. Every `SOCKET_LEASE_TTL / 3` each
 * instance renews its leases, stops the sockets it no longer holds (deleted,
 * or taken over after its lease lapsed) and takes the ones nobody holds.
 */
@Injectable()
export class OutboundSockets implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboundSockets.name);
  private readonly connections = new Map<string, OutboundConnection>();
  private readonly received = new Map<string, number>();
  private tendTimer?: TimerHandle;
  private lastRenewal: number;
  private stopping = false;
  private publisher?: EntityPublisher;
  private readonly messages: Counter<'outcome'>;
  private readonly events: OutboundConnectionEvents;

  constructor(
    private readonly store: OutboundSocketStore,
    private readonly registry: SocketRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    private readonly moduleRef: ModuleRef,
    private readonly alerts: AlertService,
    metrics: GatewayMetrics,
    private readonly socketEvents: SocketEvents,
  ) {
    this.lastRenewal = clock.now();
    this.messages = new Counter({
      name: 'push_gateway_outbound_messages_total',
      help: 'Messages outbound sockets received, by what became of them: relayed, not_relayed (binary, or no relay_to_groups), dropped (over the relay queue bound), refused (by the publisher).',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    this.events = this.connectionEvents();
  }

  private get instanceId(): string {
    return this.config.instanceId;
  }

  private get leaseMs(): number {
    return this.config.socketLeaseMs;
  }

  /** A third of the lease: a missed renewal still leaves time for the next. */
  private get tendEveryMs(): number {
    return Math.max(500, Math.floor(this.leaseMs / 3));
  }

  onApplicationBootstrap(): void {
    void this.tend();
  }

  /**
   * Stores the socket, held by this instance, and opens it. A chosen id that
   * is stored already, or names a socket open here: OutboundSocketInUseError.
   */
  async create(request: NewOutboundSocket): Promise<{ socketId: string; state: SocketState }> {
    if (this.stopping) throw new OutboundSocketsStoppingError();
    const spec: OutboundSocketSpec = { ...request, socketId: request.socketId ?? randomUUID() };
    if (this.registry.get(spec.socketId)) throw new OutboundSocketInUseError(spec.socketId);
    if (this.connections.size >= MAX_OUTBOUND_SOCKETS || (await this.store.count()) >= MAX_OUTBOUND_SOCKETS) throw new TooManyOutboundSocketsError();
    if (!(await this.store.insert(spec, this.instanceId, this.leaseMs))) throw new OutboundSocketInUseError(spec.socketId);
    if (this.registry.get(spec.socketId) && !this.connections.has(spec.socketId)) {
      // an inbound socket took the id meanwhile
      await this.store.remove(spec.socketId);
      throw new OutboundSocketInUseError(spec.socketId);
    }
    // a renewal that saw the row before this answer came back may have opened it already
    const connection = this.connections.get(spec.socketId) ?? this.start(spec);
    return { socketId: spec.socketId, state: connection.state };
  }

  /**
   * Deletes the socket from storage, so that no instance opens it again, and
   * stops it if it is open here; true if there was such a socket. On another
   * instance it stops at that instance's next renewal, or before its next
   * reconnect, or at once when it is closed through the DeliveryBus. `code`
   * and `reason` are those of the close frame the peer gets from this instance.
   */
  async forget(socketId: string, code = 1000, reason = 'deleted by an operator'): Promise<boolean> {
    // stopped here at once, before the database is asked: whoever closed it sees it gone when answered
    const local = this.connections.get(socketId);
    if (local) this.stopLocal(local, code, reason);
    const removed = await this.store.remove(socketId);
    return removed || local !== undefined;
  }

  /** Every stored outbound socket, oldest first: at most MAX_OUTBOUND_SOCKETS. */
  async list(): Promise<OutboundSocketView[]> {
    return (await this.store.list()).map((stored) => this.view(stored));
  }

  async find(socketId: string): Promise<OutboundSocketView | null> {
    const stored = await this.store.find(socketId);
    return stored && this.view(stored);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.tendTimer) this.clock.clearTimer(this.tendTimer);
    for (const connection of [...this.connections.values()]) this.stopLocal(connection, 1001, 'going away');
    // the next instance (or this one, restarted) takes them at once instead of after a lease
    await this.store.release(this.instanceId).catch((error: Error) => this.logger.warn(`could not release outbound sockets: ${error.message}`));
  }

  private view(stored: StoredOutboundSocket): OutboundSocketView {
    const local = this.connections.get(stored.socketId);
    if (!local) return { ...stored, messagesReceived: null };
    return { ...stored, owner: this.instanceId, state: local.state, messagesReceived: this.received.get(stored.socketId) ?? 0 };
  }

  private start(spec: OutboundSocketSpec): OutboundConnection {
    let connection: OutboundConnection | undefined;
    const relay =
      spec.relayToGroups &&
      new RelayQueue(
        (item) => this.publish(spec, item),
        {
          pause: () => connection?.pause(),
          resume: () => connection?.resume(),
          dropped: (item) => {
            this.messages.inc({ outcome: 'dropped' });
            this.logger.warn(`outbound socket ${spec.socketId}: relay queue full, message ${item.id} dropped`);
          },
          failed: (item, error, retryInMs) =>
            this.logger.warn(
              `outbound socket ${spec.socketId}: could not publish ${item.id} (${(error as Error).message}); retrying in ${formatDuration(retryInMs)}`,
            ),
        },
        this.clock,
      );
    connection = new OutboundConnection(
      spec,
      {
        clock: this.clock,
        registry: this.registry,
        connect: openWebSocket,
        mayReconnect: (socketId) => this.store.holds(socketId, this.instanceId),
        events: this.events,
        heartbeatMs: this.config.pingIntervalMs,
      },
      relay ?? undefined,
    );
    // closed by an operation (on this instance, or asked by another): deleted, so that it is not reopened
    connection.entry.closer = (code, reason) => {
      this.forget(spec.socketId, code, reason).catch((error: Error) =>
        this.logger.warn(`outbound socket ${spec.socketId}: could not delete it: ${error.message}`),
      );
    };
    this.connections.set(spec.socketId, connection);
    this.received.set(spec.socketId, 0);
    this.logger.log(`outbound socket ${spec.socketId}: connecting to ${loggableUrl(spec.url)}`);
    return connection;
  }

  private stopLocal(connection: OutboundConnection, code: number, reason: string): void {
    if (this.connections.get(connection.id) === connection) {
      this.connections.delete(connection.id);
      this.received.delete(connection.id);
    }
    connection.stop(code, reason);
    this.logger.log(`outbound socket ${connection.id}: stopped (${reason})`);
  }

  private async publish(spec: OutboundSocketSpec, item: RelayItem): Promise<void> {
    this.publisher ??= this.moduleRef.get(EntityPublisher, { strict: false });
    const entity = Object.assign(new PublishEntityDto(), { id: item.id, groups: [...(spec.relayToGroups ?? [])], data: new RawJson(item.dataText) });
    try {
      await this.publisher.publish(entity);
      this.messages.inc({ outcome: 'relayed' });
    } catch (error) {
      // a retry would be refused again
      if (!(error instanceof InvalidEntityError)) throw error;
      this.messages.inc({ outcome: 'refused' });
      this.logger.warn(`outbound socket ${spec.socketId}: message ${item.id} refused: ${error.message}`);
    }
  }

  /** Renews this instance's leases, stops what it no longer holds, takes what nobody holds; then again in a third of a lease. */
  private async tend(): Promise<void> {
    this.tendTimer = undefined;
    if (this.stopping) return;
    try {
      const held = await this.store.renew(this.instanceId, this.leaseMs);
      this.lastRenewal = this.clock.now();
      for (const connection of [...this.connections.values()]) {
        if (!held.has(connection.id)) this.stopLocal(connection, 1000, 'deleted, or held by another instance');
      }
      // held here and not open here: closed when the leases could not be renewed, and still ours
      for (const socketId of held) {
        if (this.connections.has(socketId)) continue;
        const stored = await this.store.find(socketId);
        if (stored && !this.stopping && !this.connections.has(socketId) && !this.registry.get(socketId)) this.start(stored);
      }
      if (this.stopping) return;
      const claimed = await this.store.claim(this.instanceId, this.leaseMs, MAX_OUTBOUND_SOCKETS - this.connections.size);
      for (const stored of claimed) {
        if (this.stopping || this.connections.has(stored.socketId)) continue;
        if (this.registry.get(stored.socketId)) {
          this.logger.warn(`outbound socket ${stored.socketId}: not opened, a socket of that id is open here`);
          continue;
        }
        this.start(stored);
      }
    } catch (error) {
      this.logger.warn(`could not renew outbound socket leases: ${(error as Error).message}`);
      if (this.clock.now() - this.lastRenewal > this.leaseMs && this.connections.size > 0) {
        // the leases have lapsed: another instance may hold these sockets by now, and two must never relay one feed
        this.logger.warn(`outbound socket leases lapsed; closing ${this.connections.size} outbound sockets until they are held again`);
        for (const connection of [...this.connections.values()]) this.stopLocal(connection, 1001, 'lease lapsed');
      }
    }
    if (!this.stopping) this.tendTimer = this.clock.setTimer(() => void this.tend(), this.tendEveryMs);
  }

  private connectionEvents(): OutboundConnectionEvents {
    const ref = (connection: OutboundConnection): SocketRef => {
      const { entry } = connection;
      return { socketId: entry.id, type: entry.type, path: entry.path, clientId: entry.clientId, remoteAddress: entry.remoteAddress };
    };
    return {
      stateChanged: (connection, state) => {
        this.store.setState(connection.id, this.instanceId, state).catch((error: Error) => this.logger.debug(`could not record a state: ${error.message}`));
        if (state !== 'failed') return;
        this.logger.warn(`outbound socket ${connection.id}: gave up after ${connection.spec.reconnect.attempts} failed reconnect attempts`);
        this.alerts.raise({
          kind: 'outbound_socket_failed',
          severity: 'warning',
          subject: 'outbound sockets gave up reconnecting',
          details: { socket_id: connection.id, url: loggableUrl(connection.spec.url), attempts: String(connection.spec.reconnect.attempts) },
        });
      },
      connected: (connection) => {
        this.logger.log(`outbound socket ${connection.id}: open to ${loggableUrl(connection.spec.url)}`);
        this.socketEvents.emit(SocketEvent.CONNECTED, {
          ...ref(connection),
          groups: [...connection.entry.groups],
          connectedAt: new Date(this.clock.now()).toISOString(),
        } satisfies SocketConnectedEvent);
      },
      message: (connection, data, binary) => {
        this.received.set(connection.id, (this.received.get(connection.id) ?? 0) + 1);
        if (binary || !connection.spec.relayToGroups) this.messages.inc({ outcome: 'not_relayed' });
        this.socketEvents.emit(SocketEvent.OUTBOUND_MESSAGE, { ...ref(connection), data, binary } satisfies SocketMessageEvent);
      },
      closed: (connection, code, reason) => {
        this.logger.log(`outbound socket ${connection.id}: closed (${code}${reason ? ` ${reason}` : ''})`);
        this.socketEvents.emit(SocketEvent.CLOSED, { ...ref(connection), code, reason } satisfies SocketClosedEvent);
      },
      failure: (connection, error) => this.logger.warn(`outbound socket ${connection.id} (${loggableUrl(connection.spec.url)}): ${error.message}`),
      unwanted: (connection) => this.stopLocal(connection, 1000, 'deleted, or held by another instance'),
    };
  }
}

/** A `ws` client connection: headers as stored, bounded messages, no compression (a small frame cannot inflate into a large one). */
function openWebSocket(spec: OutboundSocketSpec): WebSocket {
  return new WebSocket(spec.url, {
    headers: { ...spec.headers },
    maxPayload: MAX_OUTBOUND_MESSAGE_BYTES,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    perMessageDeflate: false,
    followRedirects: false,
  });
}
