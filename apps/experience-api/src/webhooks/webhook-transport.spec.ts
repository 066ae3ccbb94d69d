import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@app/platform';
import { FetchWebhookTransport, MAX_ANSWER_BYTES, WebhookTimeoutError, WebhookUnreachableError } from './webhook-transport.js';

/** A real HTTP server on 127.0.0.1 that answers as the test says. */
describe(FetchWebhookTransport.name, () => {
  let server: Server;
  let base: string;
  let received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }>;
  let answer: (response: ServerResponse) => void;
  let clock: ManualClock;
  let sut: FetchWebhookTransport;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString() });
        answer(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received = [];
    answer = (response) => response.writeHead(204).end();
    clock = new ManualClock();
    sut = new FetchWebhookTransport(clock);
  });

  it('posts the body with the headers given and answers the status and the body', async () => {
    answer = (response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"groups":["eu"]}');

    const result = await sut.post(new URL(`${base}/hook?token=abc`), { 'Content-Type': 'application/json', 'Webhook-Id': 'd1' }, '{"n":1}', 5_000);

    expect(result).toEqual({ status: 200, body: '{"groups":["eu"]}' });
    expect(received).toEqual([{ url: '/hook?token=abc', headers: expect.objectContaining({ 'webhook-id': 'd1' }), body: '{"n":1}' }]);
    expect(clock.pending).toBe(0);
  });

  it('sends credentials in the URL as Basic auth, not in the URL', async () => {
    const url = new URL(base.replace('http://', 'http://hooks:p%40ss@'));

    await sut.post(url, {}, '{}', 5_000);

    expect(received[0].headers.authorization).toBe(`Basic ${Buffer.from('hooks:p@ss').toString('base64')}`);
    expect(received[0].url).toBe('/');
  });

  it('reads an answer as far as MAX_ANSWER_BYTES', async () => {
    answer = (response) => response.writeHead(200).end('x'.repeat(MAX_ANSWER_BYTES * 4));

    expect((await sut.post(new URL(base), {}, '{}', 5_000)).body).toHaveLength(MAX_ANSWER_BYTES);
  });

  it('gives up on a webhook that does not answer within the timeout, on the clock', async () => {
    answer = () => undefined;
    const result = sut.post(new URL(base), {}, '{}', 750).catch((error: unknown) => error);
    while (received.length === 0) await new Promise((resolve) => setImmediate(resolve));

    await clock.advance(750);

    expect(await result).toEqual(new WebhookTimeoutError(750));
  });

  it('names what went wrong with a webhook it cannot reach', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const error = await sut.post(new URL(`http://127.0.0.1:${port}/`), {}, '{}', 5_000).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(WebhookUnreachableError);
    expect((error as Error).message).toBe('unreachable (ECONNREFUSED)');
  });
});
