import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import type { WsAdapter } from '@nestjs/platform-ws';
import { WebSocket, type WebSocketServer } from 'ws';
import { GuardedWsAdapter } from './guarded-ws.adapter.js';
import { HandshakeRefusedError } from './handshake-refused.error.js';
import { authorizationOf, type UpgradeGuard } from './upgrade-guard.js';

class TestGuard implements UpgradeGuard<string> {
  async authorize(request: IncomingMessage): Promise<string> {
    if (request.headers.authorization !== 'Bearer ok') throw new HandshakeRefusedError(401, 'no entry');
    return 'granted';
  }

  async abandon(): Promise<void> {}
}

/** The parts of Nest's WsAdapter the guarded adapter extends; Nest keeps them protected and undocumented. */
interface WsAdapterInternals {
  readonly httpServersRegistry: Map<number, Server>;
  readonly wsServersRegistry: Map<number, Array<WebSocketServer & { path: string }>>;
}

/** What an upgrade request to `path` was answered: the status line and body, or 101 and the socket. */
function upgradeTo(port: number, path: string, authorization?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      port,
      host: '127.0.0.1',
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...(authorization ? { Authorization: authorization } : {}),
      },
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: '' });
    });
    request.on('error', reject);
    request.end();
  });
}

/**
 * Pins what GuardedWsAdapter leans on in Nest's WsAdapter: its protected
 * registries of HTTP and WebSocket servers, the path it records on each
 * WebSocket server, and the `upgrade` listener its `ensureHttpServerExists`
 * adds (which the guarded adapter takes off again). If one of these fails,
 * `@nestjs/platform-ws` has moved its internals: upgrades would go unguarded
 * or unanswered.
 */
describe(GuardedWsAdapter.name, () => {
  let http: Server;
  let sut: GuardedWsAdapter;
  let wss: WebSocketServer;
  let port: number;

  beforeEach(async () => {
    const guard = new TestGuard();
    // the adapter takes the app for its HTTP server and to look guards up; a server that can answer `get` is both
    http = Object.assign(createServer(), { get: () => guard });
    sut = new GuardedWsAdapter(http as unknown as INestApplicationContext);
    wss = sut.create(0, { path: '/ws/test', upgradeGuard: TestGuard }) as WebSocketServer;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await sut.dispose();
    await new Promise((resolve) => http.close(resolve));
  });

  it("keeps its registries where Nest's WsAdapter keeps them, with the gateway's path on its server", () => {
    const internals = sut as unknown as WsAdapterInternals;

    expect(internals.httpServersRegistry).toBeInstanceOf(Map);
    expect(internals.httpServersRegistry.get(0)).toBe(http);
    expect(internals.wsServersRegistry.get(0)).toEqual([wss]);
    expect(internals.wsServersRegistry.get(0)![0].path).toBe('/ws/test');
  });

  it('adds no disconnect listener to each client: no gateway has handleDisconnect, sessions listen to close themselves', () => {
    const client = new EventEmitter();

    (sut as WsAdapter).bindClientDisconnect(client, () => undefined);

    expect(client.listenerCount('close')).toBe(0);
  });

  it('takes off the upgrade listener WsAdapter adds, so that only the guarded one answers, and its own at dispose', async () => {
    expect(http.listeners('upgrade')).toHaveLength(1);

    await sut.dispose();

    expect(http.listeners('upgrade')).toHaveLength(0);
  });

  it('refuses before the upgrade what the guard refuses, in a JSON body', async () => {
    expect(await upgradeTo(port, '/ws/test', 'Bearer wrong')).toEqual({ status: 401, body: '{"error":"unauthorized","message":"no entry"}' });
  });

  it('answers an unknown path 404 in a JSON body', async () => {
    expect(await upgradeTo(port, '/ws/elsewhere', 'Bearer ok')).toEqual({
      status: 404,
      body: '{"error":"not_found","message":"no WebSocket endpoint at this path"}',
    });
  });

  it('upgrades what the guard admits, and hands the socket over with what the guard resolved', async () => {
    const connected = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${port}/ws/test?x=1`, { headers: { Authorization: 'Bearer ok' } });

    const [[server]] = await Promise.all([connected, once(client, 'open')]);

    expect(authorizationOf(server)).toBe('granted');
    client.terminate();
  });
});
