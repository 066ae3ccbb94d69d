import { Module } from '@nestjs/common';
import { ConsumerCredentialsGuard } from './consumer-credentials.guard.js';
import { ConsumersController } from './consumers.controller.js';

/** `POST /consumers`: client credentials exchanged for a consumer token. */
@Module({
  controllers: [ConsumersController],
  providers: [ConsumerCredentialsGuard],
})
export class ConsumersModule {}
