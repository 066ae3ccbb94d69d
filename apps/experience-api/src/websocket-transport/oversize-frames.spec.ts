import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { onOversizeFrame, PAYLOAD_TOO_LARGE } from './oversize-frames.js';

/** Pins what onOversizeFrame leans on in `ws`: if this fails, `ws` has moved its internals. */
describe(onOversizeFrame.name, () => {
  let wss: WebSocketServer;
  let url: string;

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 125 });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => wss.close(resolve));
  });

  async function connect(): Promise<{ client: WebSocket; server: WebSocket; received: string[] }> {
    const serverSide = once(wss, 'connection');
    const client = new WebSocket(url);
    const received: string[] = [];
    client.on('message', (data) => received.push(String(data)));
    const [[server]] = await Promise.all([serverSide, once(client, 'open')]);
    return { client, server: server as WebSocket, received };
  }

  it('runs while the socket is open, so a frame sent then arrives before the close 1009', async () => {
    const { client, server, received } = await connect();
    const states: number[] = [];
    const hooked = onOversizeFrame(server, () => {
      states.push(server.readyState);
      server.send('told before the close');
    });
    if (!hooked) throw new Error('ws no longer has the private _receiver that onOversizeFrame hooks: oversize frames lose their error frame');
    const errors: Array<string | undefined> = [];
    server.on('error', (error: Error & { code?: string }) => errors.push(error.code));
    const closed = once(client, 'close');

    client.send('x'.repeat(126));

    const [code] = await closed;
    expect(code).toBe(1009);
    expect(received).toEqual(['told before the close']);
    expect(states).toEqual([WebSocket.OPEN]);
    // ws still reports the frame as the error the listener filters on
    expect(errors).toEqual([PAYLOAD_TOO_LARGE]);
  });

  it('does not run for frames within the limit', async () => {
    const { client, server } = await connect();
    let calls = 0;
    onOversizeFrame(server, () => calls++);
    const message = once(server, 'message');

    client.send('x'.repeat(125));

    await message;
    expect(calls).toBe(0);
    client.terminate();
  });
});
