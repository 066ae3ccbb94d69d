import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SocketEventsModule } from '../socket-events/socket-events.module.js';
import { CreateOutboundSockets1796200000000 } from './migrations/1796200000000-create-outbound-sockets.js';
import { OutboundSocketEntity } from './outbound-socket.entity.js';
import { OutboundSocketStore } from './outbound-socket.store.js';
import { OutboundSockets } from './outbound-sockets.service.js';
import { TypeOrmOutboundSocketStore } from './typeorm-outbound-socket.store.js';

export const OUTBOUND_SOCKET_ENTITIES = [OutboundSocketEntity];
export const OUTBOUND_SOCKET_MIGRATIONS = [CreateOutboundSockets1796200000000];

/**
 * Outbound sockets (operated through `/admin/outbound-sockets`, in `admin/`):
 * stored, held by one instance each, relayed through the EntityPublisher. Needs the DataSource, the
 * SocketRegistry, the CLOCK and the publishing module in the app.
 */
@Module({
  imports: [MetricsModule, SocketEventsModule],
  providers: [{ provide: OutboundSocketStore, useClass: TypeOrmOutboundSocketStore }, OutboundSockets],
  exports: [OutboundSockets],
})
export class OutboundSocketsModule {}
