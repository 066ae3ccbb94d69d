import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ConnectionShedding } from './connection-shedding.js';
import { ConsumerGateway } from './consumer.gateway.js';
import { ConsumerHandshakeGuard } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';
import { HandshakeRefusals } from './handshake-refusals.js';
import { HeartbeatService } from './heartbeat.service.js';
import { WebSocketOnlyController } from './websocket-only.controller.js';

@Module({
  imports: [MetricsModule],
  controllers: [WebSocketOnlyController],
  providers: [ConsumerGateway, ConsumerHandshakeGuard, ConsumerSessionService, HeartbeatService, HandshakeRefusals, ConnectionShedding],
  exports: [ConnectionShedding],
})
export class GatewayModule {}
