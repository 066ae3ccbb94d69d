import { Injectable } from '@nestjs/common';
import { type BroadcastResult, type Delivery, SocketRegistry } from '@app/socket-registry';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';

/**
 * Writes entity frames to the consumer sockets open on this instance, in
 * order, one write per socket per call (see SocketRegistry.deliverAll), and
 * counts what reached whom. Every broker ends here on every instance: the
 * local one as it publishes, the cluster's as each instance reads the stream.
 */
@Injectable()
export class EntityFanout {
  constructor(
    private readonly registry: SocketRegistry,
    private readonly metrics: GatewayMetrics,
  ) {}

  deliver(deliveries: readonly Delivery[]): BroadcastResult[] {
    const results = this.registry.deliverAll(deliveries);
    // a result per frame: a run of frames written together to the same sockets counts each frame
    for (const result of results) {
      this.metrics.deliveries.inc(result.recipients);
      for (const failed of result.failures) this.metrics.deliveryFailures.inc({ reason: failed.reason });
    }
    return results;
  }
}
