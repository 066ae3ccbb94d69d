import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ClientsController } from './clients.controller.js';

/** The admin API (`/admin/*`), behind the admin token. */
@Module({
  controllers: [ClientsController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
