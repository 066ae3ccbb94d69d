import { CONSUMER_SUBPROTOCOL, consumerSockets, entityFrame, errorFrame, messageFrame, selectSubprotocol, welcomeFrame } from './index.js';

describe('consumer protocol', () => {
  it('frames the welcome as docs/protocol.md says', () => {
    expect(welcomeFrame('s-1', 'acme', ['eu', 'us'], { lastSeq: 41, epoch: 'e-1' })).toBe(
      '{"type":"welcome","socket_id":"s-1","client_id":"acme","groups":["eu","us"],"last_seq":41,"epoch":"e-1"}',
    );
  });

  it('says in the welcome what a recovery came to', () => {
    expect(JSON.parse(welcomeFrame('s-1', 'acme', [], { lastSeq: 50, epoch: 'e-1', recovery: { recovered: true, missed: 9 } }))).toMatchObject({
      last_seq: 50,
      recovered: true,
      missed: 9,
    });
    expect(JSON.parse(welcomeFrame('s-1', 'acme', [], { lastSeq: 50, epoch: 'e-1', recovery: { recovered: false, reason: 'history_expired' } }))).toMatchObject(
      {
        recovered: false,
        reason: 'history_expired',
      },
    );
  });

  it('frames an entity around its data exactly as it was sent', () => {
    const sut = entityFrame('order-"1"', 42, [], '{"n": 12345678901234567890}', new Date('2026-11-22T09:00:00.000Z'));

    expect(sut.toString('utf8')).toBe(
      '{"type":"entity","id":"order-\\"1\\"","seq":42,"groups":[],"data":{"n": 12345678901234567890},"published_at":"2026-11-22T09:00:00.000Z"}',
    );
  });

  it('frames an operator message around its data exactly as it was sent', () => {
    expect(messageFrame('{"n":12345678901234567890,"p":1.50}').toString()).toBe('{"type":"message","data":{"n":12345678901234567890,"p":1.50}}');
  });

  it('frames an error with its code and message', () => {
    expect(JSON.parse(errorFrame('messages_not_allowed', 'no'))).toEqual({ type: 'error', code: 'messages_not_allowed', message: 'no' });
  });

  it('selects push.v1 and never a subprotocol that carries a credential', () => {
    expect(selectSubprotocol(new Set(['bearer.tok', CONSUMER_SUBPROTOCOL, 'client_id.acme']))).toBe(CONSUMER_SUBPROTOCOL);
    expect(selectSubprotocol(new Set(['bearer.tok', 'client_id.acme']))).toBe(false);
  });

  it('selects the consumer sockets on every path, never an outbound one', () => {
    expect(consumerSockets({ clientId: 'acme' })).toEqual({ type: 'inbound', clientId: 'acme' });
  });
});
