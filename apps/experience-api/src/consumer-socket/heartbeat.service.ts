import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { SocketRegistry } from '@app/socket-registry';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { consumerSockets } from '../protocol/index.js';

/**
 * Pings every socket each interval; one that has not answered the previous
 * ping by then is dead (a pulled cable sends no FIN) and is terminated. Each
 * beat's ping carries a fresh random payload and only a pong that echoes it
 * counts: unsolicited pongs cannot keep a socket that does not read alive.
 * A socket with more unsent bytes than the limit is dropped at the beat too,
 * whatever filled its buffer.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly awaitingPong = new WeakSet<WebSocket>();
  private readonly listening = new WeakSet<WebSocket>();
  private payload = Buffer.alloc(0);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: SocketRegistry,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.beat(), this.config.pingIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    const payload = randomBytes(8);
    this.payload = payload;
    // consumers only: an outbound socket keeps its own heartbeat, and may be between connections
    for (const entry of this.registry.select(consumerSockets())) {
      const { socket } = entry;
      if (this.awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      if (this.registry.dropIfSlow(entry)) continue;
      if (!this.listening.has(socket)) {
        this.listening.add(socket);
        socket.on('pong', (data: Buffer) => {
          if (data.equals(this.payload)) this.awaitingPong.delete(socket);
        });
      }
      this.awaitingPong.add(socket);
      try {
        socket.ping(payload);
      } catch (error) {
        // one socket that cannot be written must not stop the beat for the others
        this.logger.warn(`dropping socket ${entry.id} (client ${entry.clientId ?? '-'}): ping failed: ${(error as Error).message}`);
        socket.terminate();
      }
    }
  }
}
