import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ConsumerGateway } from './consumer.gateway.js';
import { ConsumerHandshakeGuard } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';
import { HeartbeatService } from './heartbeat.service.js';

@Module({
  imports: [MetricsModule],
  providers: [ConsumerGateway, ConsumerHandshakeGuard, ConsumerSessionService, HeartbeatService],
})
export class GatewayModule {}
