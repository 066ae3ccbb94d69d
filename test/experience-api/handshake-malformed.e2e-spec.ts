import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { rawExchange } from '../support/net/raw-socket.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

const upgrade = (headers: Record<string, string>) =>
  `GET /ws/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
  Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('') +
  '\r\n';

describe('requests refused before any route, in the JSON error format', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(async () => {
    await api.close();
  });

  const port = () => Number(new URL(api.httpUrl).port);

  it('answers a request Node cannot parse with 400 and a JSON body', async () => {
    const answer = await rawExchange(port(), 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nthis is no header\r\n\r\n');

    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ error: 'bad_request', message: 'malformed HTTP request' });
  });

  it('answers a plain GET of the WebSocket path (no upgrade) with 400 saying it needs a WebSocket upgrade', async () => {
    const answer = await api.http.get('/ws/publish');

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.body).toEqual({
      error: 'bad_request',
      message: '/ws/publish is the WebSocket endpoint: connect with a WebSocket client (an HTTP upgrade request)',
    });
  });

  it('answers headers over the size limit with 431 and a JSON body, on the WebSocket path too', async () => {
    const answer = await rawExchange(port(), upgrade({ 'X-Padding': 'x'.repeat(32 * 1024) }));

    expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ error: 'request_header_fields_too_large', message: 'request headers are too large' });
  });

  it.each([
    ['an empty element', 'push.v1,,client_id.x'],
    ['names separated by spaces', 'push.v1 bearer.abc'],
    ['a character no token may hold', 'push.v1, bearer.a"b'],
    ['a name given twice', 'push.v1, push.v1'],
  ])('answers a Sec-WebSocket-Protocol with %s with 400 in JSON before looking at the credentials', async (_, protocols) => {
    // a bogus token: checked first, it would have been a 401
    const answer = await rawExchange(port(), upgrade({ client_id: 'nobody', Authorization: `Bearer ${'x'.repeat(43)}`, 'Sec-WebSocket-Protocol': protocols }));

    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ error: 'bad_request', message: 'Sec-WebSocket-Protocol must be a comma-separated list of distinct tokens' });
  });

  it('leaves a consumer refused for its subprotocol list free to connect at once', async () => {
    const consumer = await createConsumer(api);

    const answer = await rawExchange(port(), upgrade({ ...consumerHeaders(consumer.clientId, consumer.token), 'Sec-WebSocket-Protocol': 'push.v1,,' }));

    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token), protocols: ['push.v1'] });
    expect((await socket.next()).type).toBe('welcome');
    await socket.close();
  });
});
