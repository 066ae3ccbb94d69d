import { Module } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ClientsController } from './clients.controller.js';

@Module({
  controllers: [ClientsController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
