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

/**
 * The life of one consumer connection after its handshake: registration with
 * its groups, the welcome frame, the rule that consumers only listen, and the
 * release of its live-socket claim when it goes.
 */
@Injectable()
export class ConsumerSessionService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ConsumerSessionService.name);
  private shuttingDown = false;

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
    this.logger.log(`consumer ${consumer.clientId} connected as ${entry.id} from ${consumer.remoteAddress}`);
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
    this.logger.log(`consumer ${entry.clientId} disconnected (${code}), socket ${entry.id}`);
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
    this.registry.close({ type: 'inbound', path: CONSUMER_PATH }, GOING_AWAY, 'server shutting down');
  }
}
