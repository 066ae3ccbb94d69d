import { Module } from '@nestjs/common';
import { ForwardingModule } from '../forwarding/forwarding.module.js';
import { CountersModule } from '../counters/counters.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { OutboxSinks } from './outbox-sinks.js';

/** Between the sources and the outbox: mapping, dead letters, storing, and the nudge to the forwarder. */
@Module({
  imports: [OutboxModule, ForwardingModule, CountersModule],
  providers: [OutboxSinks],
  exports: [OutboxSinks],
})
export class SinkModule {}
