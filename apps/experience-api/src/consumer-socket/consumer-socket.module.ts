import { type DynamicModule, Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SocketEventsModule } from '../socket-events/socket-events.module.js';
import { WebSocketTransportModule } from '../websocket-transport/websocket-transport.module.js';
import { ConsumerGateway } from './consumer.gateway.js';
import { ConsumerHandshakeGuard } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';
import { HeartbeatService } from './heartbeat.service.js';
import { inboundPathGateway } from './inbound-path.gateway.js';
import { WebSocketOnlyController } from './websocket-only.controller.js';

/** The consumer's socket on `/ws/publish` and on each inbound path: its handshake, its session, its heartbeat. */
@Module({})
export class ConsumerSocketModule {
  static forRoot(options: { readonly inboundPaths: readonly string[]; readonly inboundMaxMessageBytes: number }): DynamicModule {
    return {
      module: ConsumerSocketModule,
      imports: [MetricsModule, WebSocketTransportModule, SocketEventsModule, HistoryModule],
      controllers: [WebSocketOnlyController],
      providers: [
        ConsumerGateway,
        ...options.inboundPaths.map((path) => inboundPathGateway(path, options.inboundMaxMessageBytes)),
        ConsumerHandshakeGuard,
        ConsumerSessionService,
        HeartbeatService,
      ],
    };
  }
}
