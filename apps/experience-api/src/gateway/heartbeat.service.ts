import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { SocketRegistry } from '@app/socket-registry';
import type { ExperienceConfig } from '../config/experience.config.js';
import { EXPERIENCE_CONFIG } from '../config/experience-config.token.js';

/**
 * Pings every socket each interval; one that has not answered the previous
 * ping by then is dead (a pulled cable sends no FIN) and is terminated.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly awaitingPong = new WeakSet<WebSocket>();
  private readonly listening = new WeakSet<WebSocket>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: SocketRegistry,
    @Inject(EXPERIENCE_CONFIG) private readonly config: ExperienceConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.beat(), this.config.pingIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    for (const { socket } of this.registry.select({})) {
      if (this.awaitingPong.has(socket)) {
        socket.terminate();
        continue;
      }
      if (!this.listening.has(socket)) {
        this.listening.add(socket);
        socket.on('pong', () => this.awaitingPong.delete(socket));
      }
      this.awaitingPong.add(socket);
      socket.ping();
    }
  }
}
