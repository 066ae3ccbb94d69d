import { Injectable } from '@nestjs/common';
import { type BroadcastResult, SocketRegistry } from '@app/socket-registry';
import type { HistoryEntry } from '../history/history-entry.js';
import { EntityHistory } from '../history/entity-history.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { consumerSockets } from '../protocol/index.js';

/**
 * Writes entity frames to the consumer sockets open on this instance, in
 * `seq` order, one write per socket per call (see SocketRegistry.deliverAll),
 * counts what reached whom, and tells the history what was delivered. Every
 * broker ends here on every instance: the local one as it publishes, the
 * cluster's as each instance reads the stream.
 */
@Injectable()
export class EntityFanout {
  constructor(
    private readonly registry: SocketRegistry,
    private readonly metrics: GatewayMetrics,
    private readonly history: EntityHistory,
  ) {}

  /** One result per entry, in order. */
  deliver(entries: readonly HistoryEntry[]): BroadcastResult[] {
    const results = this.registry.deliverAll(
      entries.map((entry) => ({ frame: entry.frame, seq: entry.seq, selector: consumerSockets({ groups: entry.groups }) })),
    );
    // a result per frame: a run of frames written together to the same sockets counts each frame
    for (const result of results) {
      this.metrics.deliveries.inc(result.recipients);
      for (const failed of result.failures) this.metrics.deliveryFailures.inc({ reason: failed.reason });
    }
    this.history.delivered(entries.filter((_, i) => results[i].error === undefined));
    return results;
  }
}
