import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/** system-api's Prometheus metrics, in a registry of its own. */
@Injectable()
export class SystemMetrics {
  readonly registry = new Registry();

  readonly stored = new Counter({
    name: 'system_api_items_stored_total',
    help: 'Items written to the outbox, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly forwarded = new Counter({
    name: 'system_api_items_forwarded_total',
    help: 'Outbox items accepted by experience-api, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'system_api_dead_letters_total',
    help: 'Items set aside as malformed or refused by experience-api, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly failures = new Counter({
    name: 'system_api_source_failures_total',
    help: 'Failed polls or connections, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
