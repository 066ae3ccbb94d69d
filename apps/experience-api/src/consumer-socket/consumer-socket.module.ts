import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SocketEventsModule } from '../socket-events/socket-events.module.js';
import { WebSocketTransportModule } from '../websocket-transport/websocket-transport.module.js';
import { ConsumerGateway } from './consumer.gateway.js';
import { ConsumerHandshakeGuard } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';
import { HeartbeatService } from './heartbeat.service.js';
import { WebSocketOnlyController } from './websocket-only.controller.js';

/** The consumer's socket on `/ws/publish`: its handshake, its session, its heartbeat. */
@Module({
  imports: [MetricsModule, WebSocketTransportModule, SocketEventsModule],
  controllers: [WebSocketOnlyController],
  providers: [ConsumerGateway, ConsumerHandshakeGuard, ConsumerSessionService, HeartbeatService],
})
export class ConsumerSocketModule {}
