import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { OutboundSocketsModule } from '../outbound-sockets/outbound-sockets.module.js';
import { ClientsController } from './clients.controller.js';
import { OutboundSocketsController } from './outbound-sockets.controller.js';
import { SocketsController } from './sockets.controller.js';

/** The admin API (`/admin/*`), behind the admin token. */
@Module({
  imports: [OutboundSocketsModule],
  controllers: [ClientsController, SocketsController, OutboundSocketsController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
