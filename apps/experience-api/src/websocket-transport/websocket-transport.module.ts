import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ConnectionShedding } from './connection-shedding.js';
import { HandshakeRefusals } from './handshake-refusals.js';

/**
 * The guarded-upgrade transport every WebSocket endpoint stands on: refusals
 * before the upgrade, their bookkeeping, and shedding at accept. The adapter
 * itself is installed by the bootstrap, outside the module graph.
 */
@Module({
  imports: [MetricsModule],
  providers: [HandshakeRefusals, ConnectionShedding],
  exports: [HandshakeRefusals, ConnectionShedding],
})
export class WebSocketTransportModule {}
