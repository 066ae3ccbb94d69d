import { signedHeaders, webhookSignature } from './webhook-signature.js';

// computed apart from the code: printf '%s' '<timestamp>.<body>' | openssl dgst -sha256 -hmac '<secret>'
const SECRET = 'whsec-test-0123456789';
const BODY = '{"event":"connected","id":"d1","timestamp":"2023-11-14T22:13:20.000Z","data":{}}';
const SIGNATURE = 'sha256=406886ce78d1c291997934568027c12b7ac27294b933a9e155adfa3fdb93f0d2';

describe('webhook signature', () => {
  it('is the hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret', () => {
    expect(webhookSignature(SECRET, '1700000000', BODY)).toBe(SIGNATURE);
  });

  it('changes with the timestamp, the body and the secret', () => {
    expect(webhookSignature(SECRET, '1700000001', BODY)).not.toBe(SIGNATURE);
    expect(webhookSignature(SECRET, '1700000000', `${BODY} `)).not.toBe(SIGNATURE);
    expect(webhookSignature(`${SECRET}x`, '1700000000', BODY)).not.toBe(SIGNATURE);
  });

  it('signs each attempt at its own time, in whole seconds, with the delivery id and event beside it', () => {
    expect(signedHeaders(SECRET, { id: 'd1', event: 'connected' }, BODY, 1_700_000_000_999)).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 'push-gateway-webhooks',
      'Webhook-Id': 'd1',
      'Webhook-Event': 'connected',
      'Webhook-Timestamp': '1700000000',
      'Webhook-Signature': SIGNATURE,
    });
  });
});
