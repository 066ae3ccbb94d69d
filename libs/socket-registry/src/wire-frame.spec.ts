import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeTextFrames, rawTransport } from './wire-frame.js';

/** A server and a connected client, with the server's side of the connection and its TCP socket. */
async function connection(perMessageDeflate: boolean): Promise<{ wss: WebSocketServer; client: WebSocket; server: WebSocket; tcp: Socket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  await once(wss, 'listening');
  const accepted = once(wss, 'connection') as Promise<[WebSocket, IncomingMessage]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate });
  const [[server, request]] = await Promise.all([accepted, once(client, 'open')]);
  return { wss, client, server, tcp: request.socket };
}

/**
 * The broadcast fast path writes pre-encoded frames straight to the TCP
 * socket under a `ws` WebSocket, reading `ws` internals (`_socket`,
 * `_sender._state`, `_sender._queue`, `_extensions`). If a `ws` release moves
 * them, the fast path would silently fall back to `send` per socket; these
 * tests fail instead.
 */
describe('wire frames', () => {
  const open: Array<{ wss: WebSocketServer; client: WebSocket }> = [];

  afterEach(async () => {
    for (const { wss, client } of open.splice(0)) {
      client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('finds the TCP socket under an idle ws socket: the internals the fast path reads are where it expects them', async () => {
    const pair = await connection(false);
    open.push(pair);

    expect(rawTransport(pair.server)).toBe(pair.tcp);
  });

  it('refuses the fast path when permessage-deflate was negotiated, since each socket would need its own compressed frame', async () => {
    const pair = await connection(true);
    open.push(pair);

    expect(pair.server.extensions).toContain('permessage-deflate');
    expect(rawTransport(pair.server)).toBeUndefined();
  });

  it('refuses the fast path on a socket this process opened as a client, whose frames must be masked', async () => {
    const pair = await connection(false);
    open.push(pair);

    expect(rawTransport(pair.client)).toBeUndefined();
  });

  it('encodes frames of every header size that a ws client reads back as the same text, in order', async () => {
    const pair = await connection(false);
    open.push(pair);
    const payloads = [125, 126, 65_535, 65_536, 200_000].map((size, i) => Buffer.from(String(i).padEnd(size, 'x')));
    const received: string[] = [];
    pair.client.on('message', (data, isBinary) => received.push(isBinary ? '<binary>' : String(data)));

    rawTransport(pair.server)!.write(encodeTextFrames(payloads));
    while (received.length < payloads.length) await once(pair.client, 'message');

    expect(received).toEqual(payloads.map(String));
  });
});
