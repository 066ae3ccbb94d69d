import { Injectable, Logger } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { RecentRefusals } from '../metrics/recent-refusals.js';
import { RefusalLog } from './refusal-log.js';

/** Refusals DevOps hears about: wrong credentials, a group outside the grants, a second connection, a flood. */
const ALERTED = new Set([401, 403, 409, 429]);

/**
 * The bookkeeping of every refused handshake, wherever it was refused: the
 * metric by refusal code, a log that a flood cannot turn into a flood of lines,
 * and, for the refusals that may be an attack or a misconfigured consumer, a
 * folded alert with the reason, client id and address.
 */
@Injectable()
export class HandshakeRefusals {
  private readonly log = new RefusalLog(new Logger(HandshakeRefusals.name));

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly alerts: AlertService,
    private readonly recent: RecentRefusals,
  ) {}

  refused(status: number, code: string, remoteAddress: string, clientId: string | undefined): void {
    this.metrics.handshakes.inc({ outcome: code });
    this.recent.add('handshake', 'GET /ws/publish', status, code, remoteAddress, clientId);
    if (!ALERTED.has(status)) return;
    this.log.refused(remoteAddress, code, clientId);
    this.alert({ reason: code, client_id: clientId?.slice(0, 64), remote_address: remoteAddress });
  }

  /**
   * A connection shed at accept (see ConnectionShedding): not counted as a
   * handshake, since its request was never read, but folded into the same
   * alert, as the flood it is part of.
   */
  shed(remoteAddress: string): void {
    this.metrics.connectionsShed.inc();
    this.recent.add('handshake', 'GET /ws/publish', 429, 'shed_at_accept', remoteAddress, undefined);
    this.log.refused(remoteAddress, 'shed_at_accept', undefined);
    this.alert({ reason: 'shed_at_accept', remote_address: remoteAddress });
  }

  private alert(details: Record<string, string | undefined>): void {
    this.alerts.raise({ kind: 'handshake_refused', severity: 'warning', subject: 'refused handshakes', details });
  }
}
