import { connect as tcpConnect } from 'node:net';
import { DataSource } from 'typeorm';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

/** Sends a raw upgrade request and returns the status line and body, proving no upgrade happened. */
function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<{ statusLine: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
      socket.write([`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...lines, '', ''].join('\r\n'));
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => {
      const [head, body = ''] = text.split('\r\n\r\n');
      resolve({ statusLine: head.split('\r\n')[0], body });
    });
    socket.on('error', reject);
  });
}

/**
 * Opens a TCP connection from `localAddress`, sends `request` (nothing when it
 * is null) and returns all that came back before the server closed it.
 */
function exchange(port: number, localAddress: string, request: string | null, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: '127.0.0.1', localAddress }, () => {
      if (request !== null) socket.write(request);
    });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`${text}(no answer within ${timeoutMs} ms)`);
    }, timeoutMs);
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', reject);
  });
}

const bogusUpgrade = (extraHeaders = '') =>
  `GET /ws/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
  `client_id: nobody\r\nAuthorization: Bearer ${'x'.repeat(43)}\r\n${extraHeaders}\r\n`;

const statusOf = (answer: string) => answer.split('\r\n')[0];

describe('handshakes refused before the upgrade', () => {
  let api: RunningExperienceApi;
  let url: string;

  beforeAll(async () => {
    api = await startExperienceApi({ TOKEN_IDLE_TTL: '1h' });
    url = `${api.wsUrl}/ws/publish`;
  });
  afterAll(async () => {
    await api.close();
  });

  const port = () => Number(new URL(api.httpUrl).port);

  it('answers a bad token with a plain HTTP 401 and a JSON body, never a 101', async () => {
    const consumer = await createConsumer(api);
    const answer = await rawUpgrade(port(), '/ws/publish', {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      client_id: consumer.clientId,
      Authorization: `Bearer ${'x'.repeat(43)}`,
    });
    expect(answer.statusLine).toBe('HTTP/1.1 401 Unauthorized');
    expect(JSON.parse(answer.body)).toEqual({ error: 'unauthorized', message: 'missing, unknown or expired token' });
  });

  it.each([
    ['no credentials at all', () => ({})],
    ['a client_id without a token', (c: { clientId: string; token: string }) => ({ client_id: c.clientId })],
    ['a token without a client_id', (c: { clientId: string; token: string }) => ({ Authorization: `Bearer ${c.token}` })],
    ['a truncated token', (c: { clientId: string; token: string }) => consumerHeaders(c.clientId, c.token.slice(0, 20))],
    [
      'a token with a character changed',
      (c: { clientId: string; token: string }) => consumerHeaders(c.clientId, `${c.token.slice(0, -1)}${c.token.endsWith('A') ? 'B' : 'A'}`),
    ],
    ['an unknown client_id', (c: { clientId: string; token: string }) => consumerHeaders(`${c.clientId}-nobody`, c.token)],
    ['the token in the wrong header', (c: { clientId: string; token: string }) => ({ client_id: c.clientId, token: c.token })],
    ['a token without the Bearer scheme', (c: { clientId: string; token: string }) => ({ client_id: c.clientId, Authorization: c.token })],
  ])('refuses %s with 401', async (_case, headersFor) => {
    const consumer = await createConsumer(api);
    const refusal = await TestSocket.refusal(url, { headers: headersFor(consumer) });
    expect(refusal.status).toBe(401);
    expect(refusal.body.error).toBe('unauthorized');
  });

  it("refuses another client's token with 401", async () => {
    const [mine, theirs] = await Promise.all([createConsumer(api), createConsumer(api)]);
    const refusal = await TestSocket.refusal(url, { headers: consumerHeaders(mine.clientId, theirs.token) });
    expect(refusal.status).toBe(401);
  });

  it('refuses a rotated token once the client registered again, and accepts the new one', async () => {
    const consumer = await createConsumer(api);
    const rotated = await api.http.post('/consumers').set('client_id', consumer.clientId).set('client_secret', consumer.clientSecret).expect(201);
    expect(rotated.body.token).not.toBe(consumer.token);

    expect((await TestSocket.refusal(url, { headers: consumerHeaders(consumer.clientId, consumer.token) })).status).toBe(401);
    const socket = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, rotated.body.token) });
    expect((await socket.next()).type).toBe('welcome');
    await socket.close();
  });

  /** Back-dates the token's idle clock, as if the consumer had last been seen `minutes` ago. */
  const lastSeen = (clientId: string, minutes: number) =>
    api.app.get(DataSource).query(`UPDATE consumer_tokens SET last_seen_at = now() - $2 * interval '1 minute' WHERE client_id = $1`, [clientId, minutes]);

  it('refuses a token whose idle time ran out, and accepts one idle just short of it', async () => {
    const [idle, recent] = await Promise.all([createConsumer(api), createConsumer(api)]);
    await lastSeen(idle.clientId, 61);
    await lastSeen(recent.clientId, 59);

    const refusal = await TestSocket.refusal(url, { headers: consumerHeaders(idle.clientId, idle.token) });
    expect(refusal.status).toBe(401);
    expect(refusal.body).toEqual({ error: 'unauthorized', message: 'missing, unknown or expired token' });
    const socket = await TestSocket.open(url, { headers: consumerHeaders(recent.clientId, recent.token) });
    expect((await socket.next()).type).toBe('welcome');
    await socket.close();
  });

  it('refuses a second connection for the same client with 409 and keeps the first', async () => {
    const consumer = await createConsumer(api);
    const first = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    await first.next();

    const refusal = await TestSocket.refusal(url, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect(refusal.status).toBe(409);
    expect(refusal.body).toEqual({ error: 'conflict', message: 'this client already has an open connection' });

    const published = await api.http.post('/entity').send({ data: 'still here' }).expect(202);
    expect((await first.next()).id).toBe(published.body.id);
    await first.close();
  });

  it('lets exactly one of many simultaneous connections for one client win', async () => {
    const consumer = await createConsumer(api);
    const attempts = await Promise.allSettled(
      Array.from({ length: 8 }, () => TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token) })),
    );
    const opened = attempts.filter((a): a is PromiseFulfilledResult<TestSocket> => a.status === 'fulfilled');
    const refused = attempts.filter((a) => a.status === 'rejected').map((a) => a.reason.status);
    expect(opened).toHaveLength(1);
    expect(refused).toEqual(Array(7).fill(409));
    await opened[0].value.close();
  });

  it('answers 404 with a JSON body on a path that has no WebSocket endpoint', async () => {
    const consumer = await createConsumer(api);
    const refusal = await TestSocket.refusal(`${api.wsUrl}/ws/elsewhere`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect(refusal.status).toBe(404);
    expect(refusal.body.error).toBe('not_found');
  });

  it('answers 400 to an upgrade request that is not a valid WebSocket handshake', async () => {
    const consumer = await createConsumer(api);
    const answer = await rawUpgrade(port(), '/ws/publish', {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'too-short',
      'Sec-WebSocket-Version': '13',
      ...consumerHeaders(consumer.clientId, consumer.token),
    });
    expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(answer.body).error).toBe('bad_request');
  });

  it('refuses browser credentials that do not offer the push.v1 subprotocol', async () => {
    const consumer = await createConsumer(api);
    const refusal = await TestSocket.refusal(url, { protocols: [`bearer.${consumer.token}`, `client_id.${consumer.clientId}`] });
    expect(refusal.status).toBe(400);
  });

  it('refuses malformed handshake groups with 400', async () => {
    const consumer = await createConsumer(api);
    const refusal = await TestSocket.refusal(url, { headers: { ...consumerHeaders(consumer.clientId, consumer.token), groups: 'ok, not ok!' } });
    expect(refusal.status).toBe(400);
  });
});

describe('handshake rate limit per address', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startExperienceApi({ HANDSHAKE_RATE_PER_SECOND: '1', HANDSHAKE_BURST: '3' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers 429 with Retry-After once an address has used its burst', async () => {
    const url = `${api.wsUrl}/ws/publish`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await TestSocket.refusal(url, { headers: consumerHeaders('nobody', 'x'.repeat(43)) })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await TestSocket.refusal(url, { headers: consumerHeaders('nobody', 'x'.repeat(43)) });
    expect(limited.body.error).toBe('too_many_requests');
    expect(limited.headers['retry-after']).toBe('1');
  });
});

describe('connections shed at accept from an address over its handshake limit', () => {
  let api: RunningExperienceApi;
  const port = () => Number(new URL(api.httpUrl).port);

  beforeAll(async () => {
    api = await startExperienceApi({ HANDSHAKE_RATE_PER_SECOND: '2', HANDSHAKE_BURST: '2', TRUST_PROXY: '127.0.0.5/32' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('answers 429 a second later without reading a byte, serves other addresses meanwhile, and admits the address again once its allowance refilled', async () => {
    const flooder = '127.0.0.3';
    for (let i = 0; i < 2; i++) expect(statusOf(await exchange(port(), flooder, bogusUpgrade()))).toBe('HTTP/1.1 401 Unauthorized');
    expect(statusOf(await exchange(port(), flooder, bogusUpgrade()))).toBe('HTTP/1.1 429 Too Many Requests');

    const shedAt = performance.now();
    const timed = (answer: Promise<string>) => answer.then((text) => ({ text, afterMs: performance.now() - shedAt }));
    const [silent, health, other] = await Promise.all([
      // a connection that sends nothing at all is answered: nothing of it is read
      timed(exchange(port(), flooder, null)),
      timed(exchange(port(), flooder, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n')),
      timed(exchange(port(), '127.0.0.4', bogusUpgrade())),
    ]);
    expect(statusOf(silent.text)).toBe('HTTP/1.1 429 Too Many Requests');
    expect(silent.text).toContain('Retry-After: 1');
    expect(JSON.parse(silent.text.split('\r\n\r\n')[1])).toEqual({ error: 'too_many_requests', message: 'too many handshakes from this address' });
    expect(silent.afterMs).toBeGreaterThanOrEqual(900);
    expect(statusOf(health.text)).toBe('HTTP/1.1 429 Too Many Requests');
    expect(statusOf(other.text)).toBe('HTTP/1.1 401 Unauthorized');
    expect(other.afterMs).toBeLessThan(silent.afterMs);

    expect(statusOf(await exchange(port(), flooder, bogusUpgrade()))).toBe('HTTP/1.1 401 Unauthorized');

    const metrics = await api.http.get('/metrics').expect(200);
    expect(Number(/^push_gateway_connections_shed_total (\d+)$/m.exec(metrics.text)?.[1])).toBe(2);
  });

  it('never sheds an address allowed to publish: its requests are still read and answered', async () => {
    for (let i = 0; i < 3; i++) await exchange(port(), '127.0.0.1', bogusUpgrade());
    expect(statusOf(await exchange(port(), '127.0.0.1', bogusUpgrade()))).toBe('HTTP/1.1 429 Too Many Requests');

    expect(statusOf(await exchange(port(), '127.0.0.1', 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe('HTTP/1.1 200 OK');
    // a shed connection would be answered within 1.5 s without sending anything
    expect(await exchange(port(), '127.0.0.1', null, 2_000)).toBe('(no answer within 2000 ms)');
  });

  it('limits the forwarded address behind a trusted proxy, and never sheds the proxy', async () => {
    const forwarded = 'X-Forwarded-For: 198.51.100.9\r\n';
    for (let i = 0; i < 2; i++) expect(statusOf(await exchange(port(), '127.0.0.5', bogusUpgrade(forwarded)))).toBe('HTTP/1.1 401 Unauthorized');
    expect(statusOf(await exchange(port(), '127.0.0.5', bogusUpgrade(forwarded)))).toBe('HTTP/1.1 429 Too Many Requests');

    expect(statusOf(await exchange(port(), '127.0.0.5', bogusUpgrade('X-Forwarded-For: 198.51.100.10\r\n')))).toBe('HTTP/1.1 401 Unauthorized');
    expect(await exchange(port(), '127.0.0.5', null, 2_000)).toBe('(no answer within 2000 ms)');
  });

  it('never sheds a trusted proxy that goes over the limit itself, without X-Forwarded-For', async () => {
    for (let i = 0; i < 3; i++) await exchange(port(), '127.0.0.5', bogusUpgrade());
    expect(statusOf(await exchange(port(), '127.0.0.5', bogusUpgrade()))).toBe('HTTP/1.1 429 Too Many Requests');

    expect(statusOf(await exchange(port(), '127.0.0.5', 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe('HTTP/1.1 200 OK');
    expect(await exchange(port(), '127.0.0.5', null, 2_000)).toBe('(no answer within 2000 ms)');
  });
});
