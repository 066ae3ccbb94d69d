import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { OutboundSocketsModule } from '../outbound-sockets/outbound-sockets.module.js';
import { ClientsController } from './clients.controller.js';
import { OperationsController } from './operations.controller.js';
import { OutboundSocketsController } from './outbound-sockets.controller.js';
import { SocketsController } from './sockets.controller.js';
import { SystemApiHealth } from './system-api-health.js';

/** The admin API (`/admin/*`), behind the admin token: what operators and the console at `/console` use. */
@Module({
  imports: [OutboundSocketsModule, MetricsModule],
  controllers: [ClientsController, SocketsController, OutboundSocketsController, OperationsController],
  providers: [AdminTokenGuard, SystemApiHealth],
})
export class AdminModule {}
