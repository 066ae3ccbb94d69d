import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { AlertService } from '@app/alerting';
import { RegisteredSocket, SocketRegistry } from '@app/socket-registry';
import { ConsumerTokenService, LiveSocketService } from '@app/token-store';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ConsumerAuthorization } from './consumer-handshake.guard.js';

export const CONSUMER_PATH = '/ws/publish';

const POLICY_VIOLATION = 1008;
const GOING_AWAY = 1001;
/** Connections and disconnections are logged as one line per this period; each one alone only at debug level. */
const CONNECTION_LOG_MS = 1_000;

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
  private reportTimer?: NodeJS.Timeout;

  constructor(
    private readonly registry: SocketRegistry,
    private readonly tokens: ConsumerTokenService,
    private readonly liveSockets: LiveSocketService,
    private readonly metrics: GatewayMetrics,
    private readonly alerts: AlertService,
  ) {}

  open(socket: WebSocket, consumer: ConsumerAuthorization): void {
    const entry = new RegisteredSocket(consumer.socketId, 'inbound', CONSUMER_PATH, consumer.clientId, consumer.remoteAddress, socket);
    this.registry.add(entry, consumer.groups);
    socket.on('message', () => this.refuseMessage(entry));
    socket.on('error', (error) => this.logger.warn(`socket ${entry.id} of client ${consumer.clientId}: ${error.message}`));
    socket.once('close', (code) => void this.closed(entry, code));
    socket.send(JSON.stringify({ type: 'welcome', socket_id: entry.id, client_id: consumer.clientId, groups: [...entry.groups] }));
    this.tokens.touch(consumer.clientId).catch((error: Error) => this.logger.warn(`could not refresh token idle clock: ${error.message}`));
    this.logger.debug(`consumer ${consumer.clientId} connected as ${entry.id} from ${consumer.remoteAddress}`);
    this.connectedSinceReport++;
    this.scheduleReport();
  }

  /** A line per connection would cost more than the connection itself in a reconnect storm; a line per second does not. */
  private scheduleReport(): void {
    if (this.reportTimer) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      this.logger.log(
        `consumers: ${this.connectedSinceReport} connected, ${this.disconnectedSinceReport} disconnected in the last ` +
          `${CONNECTION_LOG_MS / 1_000} s; ${this.registry.size} sockets open`,
      );
      this.connectedSinceReport = 0;
      this.disconnectedSinceReport = 0;
    }, CONNECTION_LOG_MS);
    this.reportTimer.unref();
  }

  /** Consumers only listen on /ws/publish; one that speaks is told why and closed. */
  private refuseMessage(entry: RegisteredSocket): void {
    if (entry.socket.readyState !== entry.socket.OPEN) return;
    this.metrics.consumerViolations.inc();
    this.logger.warn(`consumer ${entry.clientId} sent a message on ${CONSUMER_PATH}; closing socket ${entry.id} with 1008`);
    this.alerts.raise({
      kind: 'consumer_message',
      severity: 'warning',
      subject: 'consumers sent messages on /ws/publish',
      details: { client_id: entry.clientId, socket_id: entry.id, remote_address: entry.remoteAddress },
    });
    entry.socket.send(
      JSON.stringify({ type: 'error', code: 'messages_not_allowed', message: `consumers may not send messages on ${CONSUMER_PATH}` }),
    );
    entry.socket.close(POLICY_VIOLATION, 'messages not allowed');
    // the socket id goes now, not when the peer gets round to answering the close
    void this.forget(entry);
  }

  private async closed(entry: RegisteredSocket, code: number): Promise<void> {
    this.logger.debug(`consumer ${entry.clientId} disconnected (${code}), socket ${entry.id}`);
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

  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
    clearTimeout(this.reportTimer);
    this.registry.close({ type: 'inbound', path: CONSUMER_PATH }, GOING_AWAY, 'server shutting down');
  }
}
