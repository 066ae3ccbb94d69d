import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Alert, AlertService } from '@app/alerting';
import { AddressList, Grants } from '@app/platform';
import { SocketRegistry } from '@app/socket-registry';
import {
  type AuthenticatedConsumer,
  type ConsumerTokenService,
  type LiveSocketService,
  type StoredCredentialsReader,
  TokenRejectedError,
} from '@app/token-store';
import type { ExperienceConfig } from '../config/experience.config.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { type ConnectDecision, ConnectGate, ConnectHandlerFailedError, type ConnectRequest, ConnectVetoedError } from '../socket-events/connect-gate.js';
import type { ConnectionShedding } from '../websocket-transport/connection-shedding.js';
import type { HandshakeRefusals } from '../websocket-transport/handshake-refusals.js';
import { HandshakeRefusedError } from '../websocket-transport/handshake-refused.error.js';
import { ConsumerHandshakeGuard } from './consumer-handshake.guard.js';

const TOKEN = 'tok-acme';

/** What the token store holds of `acme`'s token; a fake hash: the token's bytes. */
const STORED = { tokenHash: Buffer.from(TOKEN), expired: false, remainingMs: 60_000, grants: [] as string[], defaultGroups: null };

/**
 * Tokens as the token store answers them: one client, `acme`, with one valid
 * token. Not cached: when the caller reads the stored token itself (`read`,
 * the claim that checks the token), it is read that way.
 */
class FakeTokens {
  grants = ['eu', 'us', 'tenant-a/*'];
  failure?: Error;

  async authenticate(clientId: string | undefined, token: string | undefined, read?: StoredCredentialsReader): Promise<AuthenticatedConsumer> {
    if (this.failure) throw this.failure;
    if (token === undefined || clientId === undefined) throw new TokenRejectedError('missing');
    const stored = read ? await read(clientId, Buffer.from(token)) : clientId === 'acme' ? STORED : undefined;
    if (stored === undefined) throw new TokenRejectedError('unknown');
    if (!stored.tokenHash.equals(Buffer.from(token))) throw new TokenRejectedError('mismatch');
    const grants = new Grants(this.grants);
    return { clientId, grants, defaultGroups: grants.defaults(null) };
  }
}

/** One live connection per client, as the token store keeps them across instances. */
class FakeLiveSockets {
  readonly claims = new Map<string, string>();
  /** How each claim was made: alone, or with the token check. */
  readonly made: Array<'claim' | 'claimWithToken'> = [];

  async claim(clientId: string, socketId: string): Promise<boolean> {
    this.made.push('claim');
    if (this.claims.has(clientId)) return false;
    this.claims.set(clientId, socketId);
    return true;
  }

  async claimWithToken(clientId: string, socketId: string, tokenHash: Buffer): Promise<{ won: boolean; credentials?: typeof STORED }> {
    this.made.push('claimWithToken');
    if (clientId !== 'acme') return { won: false };
    if (!tokenHash.equals(STORED.tokenHash) || this.claims.has(clientId)) return { won: false, credentials: STORED };
    this.claims.set(clientId, socketId);
    return { won: true, credentials: STORED };
  }

  async release(clientId: string, socketId: string): Promise<void> {
    if (this.claims.get(clientId) === socketId) this.claims.delete(clientId);
  }
}

function upgrade(headers: IncomingHttpHeaders, options: { url?: string; peer?: string } = {}): IncomingMessage {
  return { headers, url: options.url ?? '/ws/publish', socket: { remoteAddress: options.peer ?? '198.51.100.7' } } as unknown as IncomingMessage;
}

const fromHeaders = (clientId = 'acme', token = TOKEN): IncomingHttpHeaders => ({ client_id: clientId, authorization: `Bearer ${token}` });

describe(ConsumerHandshakeGuard.name, () => {
  let tokens: FakeTokens;
  let liveSockets: FakeLiveSockets;
  let refused: Array<[number, string, string, string | undefined]>;
  let shed: Array<[string, number]>;
  let alerts: Alert[];
  let gate: ConnectGate;
  let sut: ConsumerHandshakeGuard;

  beforeEach(() => {
    gate = new ConnectGate();
    tokens = new FakeTokens();
    liveSockets = new FakeLiveSockets();
    refused = [];
    shed = [];
    alerts = [];
    const config = { trustProxy: AddressList.parse(''), handshakeRatePerSecond: 1, handshakeBurst: 3 } as unknown as ExperienceConfig;
    sut = new ConsumerHandshakeGuard(
      config,
      tokens as unknown as ConsumerTokenService,
      liveSockets as unknown as LiveSocketService,
      new GatewayMetrics(new SocketRegistry({ maxBufferedBytes: 1 })),
      { raise: (alert: Alert) => alerts.push(alert) } as unknown as AlertService,
      { refused: (...args: [number, string, string, string | undefined]) => refused.push(args) } as unknown as HandshakeRefusals,
      { shed: (address: string, ms: number) => shed.push([address, ms]) } as unknown as ConnectionShedding,
      gate,
    );
  });

  /** The refusal `authorize` threw, for a handshake that must be refused. */
  async function refusalOf(request: IncomingMessage): Promise<HandshakeRefusedError> {
    const error = await sut.authorize(request).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof HandshakeRefusedError)) throw new Error(`expected a refusal, got ${String(error)}`);
    return error;
  }

  it('admits a consumer with a valid token into its default groups and claims its one connection', async () => {
    const authorization = await sut.authorize(upgrade(fromHeaders()));

    expect(authorization).toEqual({ socketId: expect.any(String), clientId: 'acme', groups: ['eu', 'us'], remoteAddress: '198.51.100.7' });
    expect(liveSockets.claims.get('acme')).toBe(authorization.socketId);
    expect(refused).toEqual([]);
  });

  it('checks a token in the claim itself when nothing is decided between them, and claims apart when groups are asked for', async () => {
    const first = await sut.authorize(upgrade(fromHeaders()));
    expect(liveSockets.made).toEqual(['claimWithToken']);
    await liveSockets.release('acme', first.socketId);

    const second = await sut.authorize(upgrade({ ...fromHeaders(), groups: 'eu' }));

    expect(liveSockets.made).toEqual(['claimWithToken', 'claim']);
    expect(liveSockets.claims.get('acme')).toBe(second.socketId);
  });

  it('refuses a second connection 409 when the claim that checks the token loses', async () => {
    await sut.authorize(upgrade(fromHeaders()));

    expect(await refusalOf(upgrade(fromHeaders()))).toMatchObject({ status: 409 });
    expect(liveSockets.made).toEqual(['claimWithToken', 'claimWithToken']);
  });

  it.each([
    ['no token at all', { client_id: 'acme' }],
    ['a wrong token', fromHeaders('acme', 'tok-guessed')],
    ['an unknown client', fromHeaders('nobody')],
    ['a token that is not Bearer', { client_id: 'acme', authorization: `Basic ${TOKEN}` }],
  ])('refuses %s with 401, before the upgrade, and books the refusal', async (_, headers) => {
    const refusal = await refusalOf(upgrade(headers));

    expect(refusal).toMatchObject({ status: 401, code: 'unauthorized', message: 'missing, unknown or expired token' });
    expect(refused).toEqual([[401, 'unauthorized', '198.51.100.7', headers.client_id]]);
    expect(liveSockets.claims.size).toBe(0);
  });

  it('admits a browser that offers push.v1 with its credentials as subprotocols', async () => {
    const authorization = await sut.authorize(upgrade({ 'sec-websocket-protocol': `push.v1, bearer.${TOKEN}, client_id.acme` }));

    expect(authorization.clientId).toBe('acme');
  });

  it('refuses subprotocol credentials offered without push.v1 with 400, without looking at the token', async () => {
    tokens.failure = new Error('the token must not be looked at');

    const refusal = await refusalOf(upgrade({ 'sec-websocket-protocol': `bearer.${TOKEN}, client_id.acme` }));

    expect(refusal).toMatchObject({ status: 400, code: 'bad_request', message: 'browsers must offer the push.v1 subprotocol with their credentials' });
  });

  it('keeps the one open connection of a client and refuses the next with 409, until the first is given up', async () => {
    const first = await sut.authorize(upgrade(fromHeaders()));

    expect(await refusalOf(upgrade(fromHeaders()))).toMatchObject({ status: 409, code: 'conflict' });
    expect(liveSockets.claims.get('acme')).toBe(first.socketId);

    await sut.abandon(first);
    expect((await sut.authorize(upgrade(fromHeaders()))).socketId).not.toBe(first.socketId);
  });

  it('puts the consumer in exactly the groups its handshake names, each of which must be granted', async () => {
    const named = await sut.authorize(upgrade(fromHeaders(), { url: '/ws/publish?groups=tenant-a/orders,eu' }));
    expect(named.groups).toEqual(['tenant-a/orders', 'eu']);
    await sut.abandon(named);

    const refusal = await refusalOf(upgrade({ ...fromHeaders(), groups: 'eu, tenant-b/orders' }));
    expect(refusal).toMatchObject({ status: 403, code: 'forbidden', message: 'group "tenant-b/orders" is not granted to client "acme"' });
  });

  it('refuses a malformed group name with 400', async () => {
    expect(await refusalOf(upgrade({ ...fromHeaders(), groups: 'eu, no spaces' }))).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('refuses an address past its handshake allowance with 429 and Retry-After, and sheds it at accept', async () => {
    for (let i = 0; i < 3; i++) await refusalOf(upgrade({}));

    const refusal = await refusalOf(upgrade(fromHeaders()));

    expect(refusal).toMatchObject({ status: 429, code: 'too_many_requests', headers: { 'Retry-After': expect.stringMatching(/^\d+$/) } });
    expect(shed).toEqual([['198.51.100.7', expect.any(Number)]]);
    expect(liveSockets.claims.size).toBe(0);
  });

  it('answers an unexpected fault 500 without its details, and alerts DevOps', async () => {
    tokens.failure = new TypeError('cache is not iterable');

    const refusal = await refusalOf(upgrade(fromHeaders()));

    expect(refusal).toMatchObject({ status: 500, code: 'internal_server_error', message: 'internal error' });
    expect(alerts).toEqual([
      expect.objectContaining({ kind: 'internal_error', details: { where: 'consumer handshake', error: 'TypeError: cache is not iterable' } }),
    ]);
  });

  describe('with a connect handler', () => {
    /** A connect handler that answers as told and remembers what it was asked. */
    function handler(answer: (request: ConnectRequest) => Promise<ConnectDecision>): ConnectRequest[] {
      const asked: ConnectRequest[] = [];
      gate.use({
        decide: (request) => {
          asked.push(request);
          return answer(request);
        },
      });
      return asked;
    }

    it('asks it with the socket id, client, address and groups, and admits into the groups it sets', async () => {
      const asked = handler(async () => ({ groups: ['tenant-a/orders', 'us'] }));

      const authorization = await sut.authorize(upgrade({ ...fromHeaders(), groups: 'eu' }));

      expect(asked).toEqual([
        { socketId: authorization.socketId, path: '/ws/publish', clientId: 'acme', remoteAddress: '198.51.100.7', requestedGroups: ['eu'], groups: ['eu'] },
      ]);
      expect(authorization.groups).toEqual(['tenant-a/orders', 'us']);
      expect(liveSockets.claims.get('acme')).toBe(authorization.socketId);
    });

    it('keeps the groups the consumer would have had when the handler sets none', async () => {
      handler(async () => ({}));

      expect((await sut.authorize(upgrade(fromHeaders()))).groups).toEqual(['eu', 'us']);
      // asked before the claim: the token is checked first, the claim made after the answer
      expect(liveSockets.made).toEqual(['claim']);
    });

    it('refuses with 403 a group the handler sets outside the grants, and claims nothing', async () => {
      handler(async () => ({ groups: ['eu', 'tenant-b/orders'] }));

      const refusal = await refusalOf(upgrade(fromHeaders()));

      expect(refusal).toMatchObject({ status: 403, message: 'the connect handler set group "tenant-b/orders", which is not granted to client "acme"' });
      expect(liveSockets.claims.size).toBe(0);
    });

    it("refuses with 403 and the handler's reason when it vetoes, and claims nothing", async () => {
      handler(async () => {
        throw new ConnectVetoedError('account suspended');
      });

      const refusal = await refusalOf(upgrade(fromHeaders()));

      expect(refusal).toMatchObject({ status: 403, code: 'forbidden', message: 'account suspended' });
      expect(refused).toEqual([[403, 'forbidden', '198.51.100.7', 'acme']]);
      expect(liveSockets.claims.size).toBe(0);
    });

    it('refuses with 503 and Retry-After when the handler failed and the policy denies', async () => {
      handler(async () => {
        throw new ConnectHandlerFailedError('the connect handler is unavailable; try again shortly', 5);
      });

      const refusal = await refusalOf(upgrade(fromHeaders()));

      expect(refusal).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
      expect(alerts).toEqual([]);
    });

    it('never asks about a consumer refused before it: a wrong token is refused without a call', async () => {
      const asked = handler(async () => ({}));

      await refusalOf(upgrade(fromHeaders('acme', 'tok-guessed')));

      expect(asked).toEqual([]);
    });
  });
});
