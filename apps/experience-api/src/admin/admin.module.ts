import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ClientsController } from './clients.controller.js';
import { SocketsController } from './sockets.controller.js';

/** The admin API (`/admin/*`), behind the admin token. */
@Module({
  controllers: [ClientsController, SocketsController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
