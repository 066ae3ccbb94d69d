import { CONSUMER_SUBPROTOCOL } from '../protocol/index.js';
import { readHandshakeCredentials, readHandshakeGroups } from './consumer-credentials.js';

describe(readHandshakeCredentials.name, () => {
  const sut = readHandshakeCredentials;

  it('reads the client_id and Bearer headers', () => {
    expect(sut({ client_id: 'shop-7', authorization: 'Bearer tok-123' })).toEqual({
      clientId: 'shop-7',
      token: 'tok-123',
      missingSubprotocol: false,
    });
  });

  it('accepts any case of "Bearer", extra spaces, and trims the client_id', () => {
    expect(sut({ client_id: '  shop-7 ', authorization: 'bEaReR    tok-123  ' })).toEqual({
      clientId: 'shop-7',
      token: 'tok-123',
      missingSubprotocol: false,
    });
  });

  it('reports a header form with a part missing as such', () => {
    expect(sut({ client_id: 'shop-7' })).toEqual({ clientId: 'shop-7', token: undefined, missingSubprotocol: false });
    expect(sut({ authorization: 'Bearer tok-123' })).toEqual({ clientId: undefined, token: 'tok-123', missingSubprotocol: false });
  });

  it('does not take a token out of a malformed or non-Bearer Authorization header', () => {
    expect(sut({ client_id: 'shop-7', authorization: 'Bearer two words' }).token).toBeUndefined();
    expect(sut({ client_id: 'shop-7', authorization: 'Basic c2hvcDpzZWNyZXQ=' }).token).toBeUndefined();
    expect(sut({ client_id: 'shop-7', authorization: 'Bearer' }).token).toBeUndefined();
  });

  it('reads credentials a browser offers as subprotocols', () => {
    expect(sut({ 'sec-websocket-protocol': `${CONSUMER_SUBPROTOCOL}, bearer.tok-123, client_id.shop-7` })).toEqual({
      clientId: 'shop-7',
      token: 'tok-123',
      missingSubprotocol: false,
    });
  });

  it('flags subprotocol credentials offered without push.v1', () => {
    expect(sut({ 'sec-websocket-protocol': 'bearer.tok-123, client_id.shop-7' })).toEqual({
      clientId: 'shop-7',
      token: 'tok-123',
      missingSubprotocol: true,
    });
    expect(sut({ 'sec-websocket-protocol': 'chat, client_id.shop-7' }).missingSubprotocol).toBe(true);
  });

  it('prefers the headers over subprotocols', () => {
    const credentials = sut({
      client_id: 'from-header',
      authorization: 'Bearer header-token',
      'sec-websocket-protocol': 'bearer.protocol-token, client_id.from-protocol',
    });

    expect(credentials).toEqual({ clientId: 'from-header', token: 'header-token', missingSubprotocol: false });
  });

  it('finds nothing, and flags nothing, when no credentials were sent', () => {
    const none = { clientId: undefined, token: undefined, missingSubprotocol: false };

    expect(sut({})).toEqual(none);
    expect(sut({ 'sec-websocket-protocol': CONSUMER_SUBPROTOCOL })).toEqual(none);
    expect(sut({ 'sec-websocket-protocol': 'chat, superchat' })).toEqual(none);
  });
});

describe(readHandshakeGroups.name, () => {
  const sut = readHandshakeGroups;

  it('reads a groups header', () => {
    expect(sut({ groups: 'eu, audit' }, '/ws/publish')).toEqual(['eu', 'audit']);
  });

  it('reads a groups query parameter, decoded', () => {
    expect(sut({}, '/ws/publish?groups=eu,audit')).toEqual(['eu', 'audit']);
    expect(sut({}, '/ws/publish?x=1&groups=eu%2C%20us')).toEqual(['eu', 'us']);
  });

  it('joins the header and the query, header first', () => {
    expect(sut({ groups: 'eu' }, '/ws/publish?groups=us')).toEqual(['eu', 'us']);
  });

  it('reads repeated groups headers', () => {
    expect(sut({ groups: ['eu', 'us,audit'] }, '/')).toEqual(['eu', 'us', 'audit']);
  });

  it('drops blank entries and is empty when nothing was asked for', () => {
    expect(sut({ groups: ' , eu,, ' }, '/ws/publish?groups=,')).toEqual(['eu']);
    expect(sut({}, '/ws/publish')).toEqual([]);
    expect(sut({}, undefined)).toEqual([]);
  });
});
