import { createHmac } from 'node:crypto';

/** The headers of every webhook call (docs/webhooks.md). */
export const WebhookHeader = {
  /** The delivery's id, the same on every attempt: receivers drop an id they have seen. */
  ID: 'Webhook-Id',
  EVENT: 'Webhook-Event',
  /** When this attempt was sent, in whole seconds since the epoch; part of what is signed. */
  TIMESTAMP: 'Webhook-Timestamp',
  /** `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`, keyed by WEBHOOK_SECRET. */
  SIGNATURE: 'Webhook-Signature',
} as const;

/** The signature of `body` sent at `timestamp` (the header's text): `sha256=<hex>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one attempt to post `body`, signed at `nowMs`. */
export function signedHeaders(secret: string, delivery: { readonly id: string; readonly event: string }, body: string, nowMs: number): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1_000));
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'push-gateway-webhooks',
    [WebhookHeader.ID]: delivery.id,
    [WebhookHeader.EVENT]: delivery.event,
    [WebhookHeader.TIMESTAMP]: timestamp,
    [WebhookHeader.SIGNATURE]: webhookSignature(secret, timestamp, body),
  };
}
