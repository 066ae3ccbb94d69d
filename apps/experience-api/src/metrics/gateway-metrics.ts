import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { SocketRegistry } from '@app/socket-registry';

/** The app's Prometheus metrics, in a registry of its own so that several apps can share a process. */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly handshakes = new Counter({
    name: 'push_gateway_handshakes_total',
    help: 'Consumer handshakes on /ws/publish, by outcome (accepted or the refusal code).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly connectionsShed = new Counter({
    name: 'push_gateway_connections_shed_total',
    help: 'Connections answered 429 at accept because their address had used up its handshake allowance.',
    registers: [this.registry],
  });

  readonly published = new Counter({
    name: 'push_gateway_entities_published_total',
    help: 'Entities accepted by POST /entity, duplicates excluded.',
    registers: [this.registry],
  });

  readonly duplicates = new Counter({
    name: 'push_gateway_entity_duplicates_total',
    help: 'POST /entity requests whose id had been published already.',
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'push_gateway_deliveries_total',
    help: 'Entity frames written to consumer sockets.',
    registers: [this.registry],
  });

  readonly deliveryFailures = new Counter({
    name: 'push_gateway_delivery_failures_total',
    help: 'Entity frames that could not be written, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly recoveries = new Counter({
    name: 'push_gateway_recoveries_total',
    help: 'Consumers that reconnected saying where they stopped, by outcome: recovered, history_expired, epoch_changed, too_many, or failed.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly recoveredEntities = new Counter({
    name: 'push_gateway_recovered_entities_total',
    help: 'Missed entities replayed to reconnecting consumers.',
    registers: [this.registry],
  });

  readonly consumerViolations = new Counter({
    name: 'push_gateway_consumer_violations_total',
    help: 'Consumers closed for sending frames on /ws/publish.',
    registers: [this.registry],
  });

  readonly socketsOpen: Gauge;

  constructor(sockets: SocketRegistry) {
    this.socketsOpen = new Gauge({
      name: 'push_gateway_sockets_open',
      help: 'Sockets open on this instance.',
      registers: [this.registry],
      collect() {
        this.set(sockets.size);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
