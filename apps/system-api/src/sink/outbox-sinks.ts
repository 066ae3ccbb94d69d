import { Injectable } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { OutboxForwarder } from '../forwarding/outbox-forwarder.service.js';
import { SystemMetrics } from '../counters/system-metrics.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import type { ItemMapping } from './item-sink.js';
import { OutboxSink } from './outbox-sink.js';

/** Makes the sink of each source, over the one outbox and forwarder. */
@Injectable()
export class OutboxSinks {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly alerts: AlertService,
    private readonly metrics: SystemMetrics,
    private readonly forwarder: OutboxForwarder,
  ) {}

  for(source: string, mapping: ItemMapping): OutboxSink {
    return new OutboxSink(source, mapping, { outbox: this.outbox, alerts: this.alerts, metrics: this.metrics, forwarder: this.forwarder });
  }
}
