import { Module } from '@nestjs/common';
import { OutboxRepository } from './outbox.repository.js';
import { TypeOrmOutboxRepository } from './typeorm-outbox.repository.js';

/** The durable outbox: items, cursors and dead letters. Needs a DataSource from DatabaseModule. */
@Module({
  providers: [{ provide: OutboxRepository, useClass: TypeOrmOutboxRepository }],
  exports: [OutboxRepository],
})
export class OutboxModule {}
