import { Module } from '@nestjs/common';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SocketEventsModule } from '../socket-events/socket-events.module.js';
import { ConnectWebhook } from './connect-webhook.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookMetrics } from './webhook-metrics.js';
import { FetchWebhookTransport, WebhookTransport } from './webhook-transport.js';

/**
 * Event handlers for code outside this process (docs/webhooks.md): the
 * triggers posted to WEBHOOK_URL, and the connect handler at
 * WEBHOOK_CONNECT_URL, installed in the handshake's ConnectGate. Each is idle
 * when its URL is not set. Nothing imports this folder; it listens.
 */
@Module({
  imports: [SocketEventsModule, MetricsModule],
  providers: [
    WebhookDispatcher,
    ConnectWebhook,
    { provide: WebhookTransport, useClass: FetchWebhookTransport },
    { provide: WebhookMetrics, useFactory: (metrics: GatewayMetrics) => new WebhookMetrics(metrics.registry), inject: [GatewayMetrics] },
  ],
})
export class WebhooksModule {}
