import { Counter, Gauge, type Registry } from 'prom-client';

/** The webhooks' Prometheus metrics, in the app's registry (GET /metrics). */
export class WebhookMetrics {
  readonly deliveries: Counter<'outcome'>;
  readonly failedAttempts: Counter;
  readonly connectCalls: Counter<'outcome'>;
  readonly queueDepth: Gauge;

  constructor(registry: Registry) {
    this.deliveries = new Counter({
      name: 'push_gateway_webhook_deliveries_total',
      help: 'Webhook deliveries by outcome: delivered, given_up (every attempt failed), dropped (the queue was full), abandoned (the instance stopped).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.failedAttempts = new Counter({
      name: 'push_gateway_webhook_failed_attempts_total',
      help: 'Webhook attempts that failed (no 2xx answer in time); each is retried until WEBHOOK_RETRIES.',
      registers: [registry],
    });
    this.connectCalls = new Counter({
      name: 'push_gateway_webhook_connect_calls_total',
      help: 'Calls of the connect handler by outcome: allowed, vetoed, failed (then WEBHOOK_CONNECT_FAILURE decides).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.queueDepth = new Gauge({
      name: 'push_gateway_webhook_queue_depth',
      help: 'Webhook deliveries waiting or in flight.',
      registers: [registry],
    });
  }
}
