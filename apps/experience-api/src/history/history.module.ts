import { Module } from '@nestjs/common';
import { EntitiesController } from './entities.controller.js';
import { EntityHistory } from './entity-history.service.js';
import { HistoryStore, TypeOrmHistoryStore } from './history-store.js';

/** The entity history: recorded by the brokers, recovered from by consumers, read over `GET /entities`. */
@Module({
  controllers: [EntitiesController],
  providers: [EntityHistory, { provide: HistoryStore, useClass: TypeOrmHistoryStore }],
  exports: [EntityHistory],
})
export class HistoryModule {}
