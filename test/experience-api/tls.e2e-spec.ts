import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '@app/platform';
import { loadExperienceConfig } from '../../apps/experience-api/src/config/experience.config.js';
import { ADMIN_TOKEN, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { opensslAnswers, selfSignedCertificate, type SelfSigned } from '../support/net/self-signed.js';
import { serviceAvailable } from '../support/processes/services.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

function plainHttpGet(url: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const request = httpGet(url, { timeout: 5_000 }, (response) => {
      response.resume();
      resolve({ status: response.statusCode });
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

/** A bogus handshake over TLS from `localAddress`: the status line answered, or how the connection failed. */
function tlsHandshakeAttempt(port: number, localAddress: string, ca: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const tcp = netConnect({ port, host: '127.0.0.1', localAddress });
    tcp.on('error', () => undefined);
    const socket = tlsConnect({ socket: tcp, host: '127.0.0.1', ca }, () => {
      socket.write(
        'GET /ws/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nclient_id: nobody\r\nAuthorization: Bearer ${'x'.repeat(43)}\r\n\r\n`,
      );
    });
    let text = '';
    let failure = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => (failure = error.code ?? error.message));
    socket.on('close', () => resolve(text ? text.split('\r\n')[0] : `failed: ${failure || 'closed'}`));
  });
}

describe('TLS configuration', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'push-tls-config-'));
    writeFileSync(join(dir, 'cert.pem'), 'not read for its content');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['TLS_CERT_FILE', 'TLS_KEY_FILE'],
    ['TLS_KEY_FILE', 'TLS_CERT_FILE'],
  ])('refuses %s without %s, naming the missing variable', (given, missing) => {
    let thrown: unknown;
    try {
      loadExperienceConfig({ ADMIN_TOKEN, [given]: join(dir, 'cert.pem') });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigurationError);
    const problems = (thrown as ConfigurationError).problems;
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${missing}: `)));
    expect(problems).not.toContainEqual(expect.stringMatching(new RegExp(`^${given}: `)));
  });
});

const available = serviceAvailable('openssl', opensslAnswers());
const describeWithOpenssl = available ? describe : describe.skip;

describeWithOpenssl('HTTPS and WSS on one port with TLS_CERT_FILE and TLS_KEY_FILE', () => {
  let certificate: SelfSigned;
  let cert: Buffer;
  let api: RunningExperienceApi;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    certificate = selfSignedCertificate();
    cert = certificate.cert;
    api = await startExperienceApi({ TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
  });
  afterAll(async () => {
    await api?.close();
    certificate?.remove();
  });

  it('answers /health over HTTPS with the configured certificate', async () => {
    expect(api.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    await api.http
      .get('/health')
      .ca(cert)
      .expect(200, { status: 'ok', checks: { database: { status: 'up' } } });
  });

  it('gives plain HTTP on the same port no 200', async () => {
    const outcome = await plainHttpGet(`${api.httpUrl.replace(/^https:/, 'http:')}/health`);
    expect(outcome.status ?? outcome.error).toBeDefined();
    expect(outcome.status).not.toBe(200);
  });

  it('welcomes a wss:// consumer and pushes it an entity published over HTTPS', async () => {
    const clientId = uniqueClientId('tls');
    const created = await api.http.post('/admin/clients').ca(cert).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ client_id: clientId }).expect(201);
    const registered = await api.http.post('/consumers').ca(cert).set('client_id', clientId).set('client_secret', created.body.client_secret).expect(201);

    expect(api.wsUrl).toMatch(/^wss:\/\//);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, registered.body.token), ca: cert });
    sockets.push(socket);
    expect(await socket.next()).toEqual({
      type: 'welcome',
      socket_id: expect.any(String),
      client_id: clientId,
      groups: [],
      last_seq: expect.any(Number),
      epoch: expect.any(String),
    });

    const published = await api.http
      .post('/entity')
      .ca(cert)
      .send({ data: { secure: true } })
      .expect(202);
    expect(await socket.next()).toMatchObject({ type: 'entity', id: published.body.id, seq: published.body.seq, data: { secure: true } });
  });

  it('is refused by a wss:// client that does not trust the certificate', async () => {
    await expect(TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders('anyone', 'any-token') })).rejects.toThrow(/self[- ]signed/i);
  });
});

describeWithOpenssl('an address over its handshake limit on a TLS port', () => {
  let certificate: SelfSigned;
  let api: RunningExperienceApi;

  beforeAll(async () => {
    certificate = selfSignedCertificate();
    api = await startExperienceApi({
      TLS_CERT_FILE: certificate.certFile,
      TLS_KEY_FILE: certificate.keyFile,
      HANDSHAKE_RATE_PER_SECOND: '1',
      HANDSHAKE_BURST: '2',
    });
  });
  afterAll(async () => {
    await api?.close();
    certificate?.remove();
  });

  it('has its next connections dropped before the TLS handshake, while other addresses are served', async () => {
    const port = Number(new URL(api.httpUrl).port);
    const attempts: string[] = [];
    for (let i = 0; i < 3; i++) attempts.push(await tlsHandshakeAttempt(port, '127.0.0.3', certificate.cert));
    expect(attempts).toEqual(['HTTP/1.1 401 Unauthorized', 'HTTP/1.1 401 Unauthorized', 'HTTP/1.1 429 Too Many Requests']);

    expect(await tlsHandshakeAttempt(port, '127.0.0.3', certificate.cert)).toMatch(/^failed: /);
    expect(await tlsHandshakeAttempt(port, '127.0.0.4', certificate.cert)).toBe('HTTP/1.1 401 Unauthorized');
  });
});
