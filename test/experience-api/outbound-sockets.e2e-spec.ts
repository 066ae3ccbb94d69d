import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter2 } from '@nestjs/event-emitter';
import request from 'supertest';
import { WebSocketServer } from 'ws';
import { SocketRegistry } from '@app/socket-registry';
import { createExperienceApp } from '../../apps/experience-api/src/bootstrap.js';
import { loadExperienceConfig } from '../../apps/experience-api/src/config/experience.config.js';
import {
  SocketEvent,
  type SocketClosedEvent,
  type SocketConnectedEvent,
  type SocketMessageEvent,
} from '../../apps/experience-api/src/socket-events/socket-events.js';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { FreshDatabase } from '../support/cluster/fresh-database.js';
import { FeedServer } from '../support/net/feed-server.js';
import { freePort } from '../support/net/free-port.js';
import { opensslAnswers, selfSignedCertificate } from '../support/net/self-signed.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { databaseUrl } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
/** Fast reconnects, many of them: a feed that is away a while is waited for. */
const FAST = { initial_delay: '50ms', max_delay: '200ms', attempts: 1_000 };
let counter = 0;
const uniqueId = (prefix = 'feed') => `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

interface Described {
  socket_id: string;
  state: string;
  owner: string | null;
  [key: string]: unknown;
}

describe('outbound sockets', () => {
  let api: RunningExperienceApi;
  const feeds: FeedServer[] = [];
  const sockets: TestSocket[] = [];
  const created: string[] = [];

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
    for (const id of created.splice(0)) await api.http.delete(`/admin/outbound-sockets/${id}`).set(admin);
    for (const feed of feeds.splice(0)) await feed.stop();
  });
  afterAll(async () => {
    await api.close();
  });

  async function feed(): Promise<FeedServer> {
    const started = await FeedServer.start();
    feeds.push(started);
    return started;
  }

  async function openOutbound(on: RunningExperienceApi, body: object): Promise<string> {
    const answer = await on.http.post('/admin/outbound-sockets').set(admin).send(body).expect(201);
    created.push(answer.body.socket_id);
    return answer.body.socket_id;
  }

  async function described(on: RunningExperienceApi, socketId: string): Promise<Described | undefined> {
    const answer = await on.http.get('/admin/outbound-sockets').set(admin).expect(200);
    return (answer.body.outbound_sockets as Described[]).find((socket) => socket.socket_id === socketId);
  }

  const stateOf = async (on: RunningExperienceApi, socketId: string) => (await described(on, socketId))?.state;

  async function consumerOf(groups: string[]): Promise<TestSocket> {
    const consumer = await createConsumer(api, { groups });
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    sockets.push(socket);
    expect((await socket.next()).type).toBe('welcome');
    return socket;
  }

  it('opens a socket to the feed, with its headers, and lists it open, type outbound, its headers masked', async () => {
    const upstream = await feed();

    const answer = await api.http
      .post('/admin/outbound-sockets')
      .set(admin)
      .send({ url: `${upstream.url}?channel=prices`, headers: { Authorization: 'Bearer feed-secret-123' }, groups: ['ops'] })
      .expect(201);
    created.push(answer.body.socket_id);

    expect(answer.body).toEqual({ socket_id: expect.stringMatching(/^[0-9a-f-]{36}$/), state: 'connecting' });
    const socketId = answer.body.socket_id as string;
    await eventually(async () => (await stateOf(api, socketId)) === 'open', 10_000, 50, 'the socket open');
    expect(upstream.connections).toHaveLength(1);
    expect(upstream.latest!.headers.authorization).toBe('Bearer feed-secret-123');
    expect(upstream.latest!.path).toBe('/feed?channel=prices');
    expect(await described(api, socketId)).toEqual({
      socket_id: socketId,
      url: `${upstream.url}?channel=prices`,
      headers: { Authorization: '***' },
      groups: ['ops'],
      relay_to_groups: null,
      reconnect: { initial_delay: '1s', max_delay: '30s', attempts: 10 },
      state: 'open',
      owner: expect.any(String),
      messages_received: 0,
      created_at: expect.any(String),
    });
    const single = await api.http.get(`/admin/outbound-sockets/${socketId}`).set(admin).expect(200);
    expect(single.body.headers).toEqual({ Authorization: '***' });
    expect(JSON.stringify(single.body)).not.toContain('feed-secret-123');
    expect(api.app.get(SocketRegistry).get(socketId)?.info()).toMatchObject({
      type: 'outbound',
      path: '/feed',
      clientId: null,
      remoteAddress: `127.0.0.1:${upstream.port}`,
      groups: ['ops'],
      state: 'open',
    });
  });

  it('relays what the feed sends to the consumers of its groups, in order, with increasing seq; binary messages are not relayed', async () => {
    const upstream = await feed();
    const newsReader = await consumerOf(['news']);
    const otherReader = await consumerOf(['sports']);
    const heard: SocketMessageEvent[] = [];
    const listener = (event: SocketMessageEvent) => heard.push(event);
    api.app.get(EventEmitter2).on(SocketEvent.OUTBOUND_MESSAGE, listener);
    const socketId = await openOutbound(api, { url: upstream.url, relay_to_groups: ['news'], socket_id: uniqueId() });
    await eventually(() => upstream.open === 1);

    upstream.send('{"price": 1.10}');
    upstream.send('not json');
    upstream.send(Buffer.from([0xde, 0xad]));
    for (let i = 0; i < 20; i++) upstream.send(JSON.stringify({ n: i }));

    const frames: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 22; i++) frames.push(await newsReader.next());
    expect(frames.slice(0, 2).map((frame) => frame.data)).toEqual([{ price: 1.1 }, 'not json']);
    expect(frames.slice(2).map((frame) => frame.data)).toEqual(Array.from({ length: 20 }, (_, i) => ({ n: i })));
    expect(frames.every((frame) => frame.type === 'entity' && JSON.stringify(frame.groups) === '["news"]')).toBe(true);
    const seqs = frames.map((frame) => frame.seq as number);
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1])).toBe(true);
    expect(frames.map((frame) => (frame.id as string).split(':')[2])).toEqual([1, 2, ...Array.from({ length: 20 }, (_, i) => i + 4)].map(String));
    expect(frames.every((frame) => (frame.id as string).startsWith(`${socketId}:`))).toBe(true);
    expect(otherReader.pending).toBe(0);
    await eventually(() => heard.filter((event) => event.socketId === socketId).length === 23);
    expect(heard.find((event) => event.binary)).toMatchObject({ socketId, type: 'outbound', binary: true, data: Buffer.from([0xde, 0xad]) });
    api.app.get(EventEmitter2).off(SocketEvent.OUTBOUND_MESSAGE, listener);
  });

  it('reconnects when the feed drops and comes back: the same socket, relays go on in seq order', async () => {
    const upstream = await feed();
    const reader = await consumerOf(['quotes']);
    const socketId = await openOutbound(api, { url: upstream.url, relay_to_groups: ['quotes'], reconnect: FAST, socket_id: uniqueId() });
    const entry = () => api.app.get(SocketRegistry).get(socketId);
    const events: string[] = [];
    const onConnected = (event: SocketConnectedEvent) => event.socketId === socketId && events.push(`connected ${event.type} ${event.path}`);
    const onClosed = (event: SocketClosedEvent) => event.socketId === socketId && events.push(`closed ${event.code}`);
    const emitter = api.app.get(EventEmitter2);
    emitter.on(SocketEvent.CONNECTED, onConnected);
    emitter.on(SocketEvent.CLOSED, onClosed);
    await eventually(() => upstream.open === 1);
    const first = entry();
    upstream.send('"before"');
    const before = await reader.next();

    await upstream.stop();
    await eventually(async () => (await stateOf(api, socketId)) === 'reconnecting', 10_000, 20, 'reconnecting');
    await upstream.listen();
    await eventually(async () => (await stateOf(api, socketId)) === 'open', 10_000, 50, 'open again');
    upstream.send('"after"');
    const after = await reader.next();

    expect(before.data).toBe('before');
    expect(after.data).toBe('after');
    expect(after.seq as number).toBeGreaterThan(before.seq as number);
    expect(upstream.open).toBe(1);
    expect(entry()).toBe(first);
    expect([...api.app.get(SocketRegistry).select({ type: 'outbound' })].filter((socket) => socket.id === socketId)).toHaveLength(1);
    expect((await api.http.get('/admin/outbound-sockets').set(admin)).body.outbound_sockets.filter((s: Described) => s.socket_id === socketId)).toHaveLength(1);
    expect(events).toEqual(['connected outbound /feed', 'closed 1006', 'connected outbound /feed']);
    emitter.off(SocketEvent.CONNECTED, onConnected);
    emitter.off(SocketEvent.CLOSED, onClosed);
  });

  it('gives up after its reconnect attempts: failed', async () => {
    const nobody = await freePort();
    const socketId = await openOutbound(api, { url: `ws://127.0.0.1:${nobody}/feed`, reconnect: { initial_delay: '10ms', max_delay: '20ms', attempts: 2 } });

    await eventually(async () => (await stateOf(api, socketId)) === 'failed', 10_000, 50, 'failed');
    expect(api.app.get(SocketRegistry).get(socketId)?.state).toBe('failed');
  });

  (opensslAnswers() ? it : it.skip)('connects to wss:// feeds with their certificate checked: an untrusted one is never opened', async () => {
    const certificate = selfSignedCertificate();
    const server = createHttpsServer({ cert: certificate.cert, key: certificate.key });
    const feedSockets = new WebSocketServer({ server });
    let upgrades = 0;
    let handshakes = 0;
    feedSockets.on('connection', () => upgrades++);
    server.on('secureConnection', () => handshakes++);
    server.on('tlsClientError', () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const socketId = await openOutbound(api, { url: `wss://127.0.0.1:${port}/feed`, reconnect: { initial_delay: '10ms', max_delay: '10ms', attempts: 1 } });

      await eventually(async () => (await stateOf(api, socketId)) === 'failed', 10_000, 50, 'failed');
      expect(handshakes).toBeGreaterThan(0);
      expect(upgrades).toBe(0);
      expect(api.app.get(SocketRegistry).get(socketId)?.remoteAddress).toBe(`127.0.0.1:${port}`);
    } finally {
      feedSockets.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      certificate.remove();
    }
  });

  it('refuses a socket_id in use with 409', async () => {
    const upstream = await feed();
    const socketId = await openOutbound(api, { url: upstream.url, socket_id: uniqueId('taken') });

    const answer = await api.http.post('/admin/outbound-sockets').set(admin).send({ url: upstream.url, socket_id: socketId }).expect(409);

    expect(answer.body).toEqual({ error: 'conflict', message: `socket_id ${socketId} is in use` });
  });

  it('closes and deletes a socket: the feed sees 1000, it is listed no more, and a second DELETE is 404', async () => {
    const upstream = await feed();
    const socketId = await openOutbound(api, { url: upstream.url });
    await eventually(() => upstream.open === 1);

    await api.http.delete(`/admin/outbound-sockets/${socketId}`).set(admin).expect(204);

    await eventually(() => upstream.latest?.closed !== undefined);
    expect(upstream.latest!.closed).toEqual({ code: 1000, reason: 'deleted by an operator' });
    expect(await described(api, socketId)).toBeUndefined();
    expect(api.app.get(SocketRegistry).get(socketId)).toBeUndefined();
    await api.http.get(`/admin/outbound-sockets/${socketId}`).set(admin).expect(404);
    const again = await api.http.delete(`/admin/outbound-sockets/${socketId}`).set(admin).expect(404);
    expect(again.body).toEqual({ error: 'not_found', message: `no outbound socket ${socketId}` });
  });

  it('takes operator messages through the socket operations: the feed receives the data as its JSON text', async () => {
    const upstream = await feed();
    const socketId = await openOutbound(api, { url: upstream.url, groups: ['feeds'] });
    await eventually(async () => (await stateOf(api, socketId)) === 'open');
    const received: string[] = [];
    upstream.latest!.socket.on('message', (data) => received.push(data.toString()));

    await api.http
      .post(`/admin/sockets/${socketId}/messages`)
      .set(admin)
      .send({ data: { subscribe: 'orders' } })
      .expect(202);
    const told = await api.http
      .post('/admin/broadcast')
      .set(admin)
      .send({ data: 'ping', type: 'outbound', groups: ['feeds'] })
      .expect(200);

    expect(told.body).toEqual({ recipients: 1, failures: [] });
    await eventually(() => received.length === 2);
    expect(received).toEqual(['{"subscribe":"orders"}', '"ping"']);
    expect(upstream.open).toBe(1);
  });

  it('is deleted, not only closed, by the generic DELETE /admin/sockets/:socket_id: it is not reopened', async () => {
    const upstream = await feed();
    const socketId = await openOutbound(api, { url: upstream.url, reconnect: { initial_delay: '100ms', max_delay: '100ms', attempts: 100 } });
    await eventually(async () => (await stateOf(api, socketId)) === 'open');

    await api.http.delete(`/admin/sockets/${socketId}`).set(admin).send({ code: 4000, reason: 'enough' }).expect(204);

    await eventually(() => upstream.latest?.closed !== undefined);
    expect(upstream.latest!.closed).toEqual({ code: 4000, reason: 'enough' });
    await api.http.get(`/admin/outbound-sockets/${socketId}`).set(admin).expect(404);
    await api.http.get(`/admin/sockets/${socketId}`).set(admin).expect(404);
    expect(upstream.connections).toHaveLength(1);
  });

  it('is deleted by a bulk close that selects it, with the code and reason chosen', async () => {
    const upstream = await feed();
    const socketId = await openOutbound(api, { url: upstream.url, groups: ['bulk-closed'] });
    await eventually(async () => (await stateOf(api, socketId)) === 'open');

    const answer = await api.http
      .post('/admin/sockets/close')
      .set(admin)
      .send({ type: 'outbound', groups: ['bulk-closed'], code: 4001, reason: 'all feeds' })
      .expect(200);

    expect(answer.body).toEqual({ closed: 1 });
    await eventually(() => upstream.latest?.closed !== undefined);
    expect(upstream.latest!.closed).toEqual({ code: 4001, reason: 'all feeds' });
    await eventually(async () => (await api.http.get(`/admin/outbound-sockets/${socketId}`).set(admin)).status === 404);
    expect(upstream.connections).toHaveLength(1);
  });

  it.each([
    ['no url', {}, ['url must be a ws:// or wss:// URL']],
    ['an http url', { url: 'http://127.0.0.1/feed' }, ['url must be a ws:// or wss:// URL']],
    ['a url that is not one', { url: 'feed please' }, ['url must be a ws:// or wss:// URL']],
    ['a url with credentials', { url: 'ws://user:pw@127.0.0.1/feed' }, ['url must not carry credentials']],
    ['headers as a list', { url: 'ws://127.0.0.1/f', headers: ['a'] }, ['headers must be an object']],
    ['a header that is not a string', { url: 'ws://127.0.0.1/f', headers: { 'X-Key': 7 } }, ['headers.X-Key must be a string']],
    [
      'a header the handshake sets',
      { url: 'ws://127.0.0.1/f', headers: { 'Sec-WebSocket-Key': 'x' } },
      ['headers: Sec-WebSocket-Key is set by the WebSocket handshake'],
    ],
    ['too many headers', { url: 'ws://127.0.0.1/f', headers: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`X-${i}`, 'v'])) }, ['at most 32']],
    ['a header too long', { url: 'ws://127.0.0.1/f', headers: { 'X-Key': 'v'.repeat(4_097) } }, ['headers.X-Key must be at most 4096 characters']],
    ['a socket_id with a space', { url: 'ws://127.0.0.1/f', socket_id: 'my feed' }, ['socket_id must match']],
    ['a bad group', { url: 'ws://127.0.0.1/f', groups: ['bad group'] }, ['each of groups must match']],
    ['empty relay_to_groups', { url: 'ws://127.0.0.1/f', relay_to_groups: [] }, ['relay_to_groups must not be empty']],
    ['a delay that is no duration', { url: 'ws://127.0.0.1/f', reconnect: { initial_delay: 'soon' } }, ['reconnect.initial_delay must be a duration']],
    ['negative attempts', { url: 'ws://127.0.0.1/f', reconnect: { attempts: -1 } }, ['reconnect.attempts must be a whole number']],
    [
      'max_delay under initial_delay',
      { url: 'ws://127.0.0.1/f', reconnect: { initial_delay: '5s', max_delay: '1s' } },
      ['reconnect.max_delay must not be shorter'],
    ],
    ['an unknown reconnect field', { url: 'ws://127.0.0.1/f', reconnect: { tries: 3 } }, ['property reconnect.tries should not exist']],
    ['an unknown field', { url: 'ws://127.0.0.1/f', relay: true }, ['property relay should not exist']],
    [
      'several bad fields at once',
      { url: 'ftp://x', socket_id: '!', reconnect: { max_delay: 'later', attempts: 1.5 } },
      ['url must be', 'socket_id must match', 'reconnect.max_delay', 'reconnect.attempts'],
    ],
  ])('refuses %s with 400 naming the field', async (_, body, messages) => {
    const answer = await api.http.post('/admin/outbound-sockets').set(admin).send(body).expect(400);

    expect(answer.body.error).toBe('bad_request');
    for (const message of messages) expect(answer.body.message).toContain(message);
  });

  it('never shows a header value in a refusal', async () => {
    const answer = await api.http
      .post('/admin/outbound-sockets')
      .set(admin)
      .send({ url: 'ws://127.0.0.1/f', headers: { Authorization: 'Bearer hunter2\n' } })
      .expect(400);

    expect(answer.body.message).toContain('headers.Authorization must be printable ASCII');
    expect(answer.body.message).not.toContain('hunter2');
  });

  it('is behind the admin token', async () => {
    for (const token of [undefined, 'wrong-token-0123456789']) {
      const auth = token ? { Authorization: `Bearer ${token}` } : {};
      await api.http.post('/admin/outbound-sockets').set(auth).send({ url: 'ws://127.0.0.1/f' }).expect(401);
      await api.http.get('/admin/outbound-sockets').set(auth).expect(401);
      await api.http.get('/admin/outbound-sockets/x').set(auth).expect(401);
      await api.http.delete('/admin/outbound-sockets/x').set(auth).expect(401);
    }
  });
});

describe('outbound sockets across a restart', () => {
  let dataDir: string | undefined;
  let database: FreshDatabase | undefined;
  let api: RunningExperienceApi | undefined;
  const feeds: FeedServer[] = [];

  /**
   * The same database each time, and one of the test's own: a PGlite folder,
   * or a fresh database on the suites' Postgres, where no other suite's
   * instance can take the sockets over while this app is down.
   */
  const start = () => startExperienceApi(database ? { DATABASE_URL: database.url } : { PGLITE_DATA_DIR: dataDir! });

  beforeAll(async () => {
    if (databaseUrl) database = await FreshDatabase.create(databaseUrl, 'outbound_restart');
    else dataDir = await mkdtemp(join(tmpdir(), 'outbound-restart-'));
  });
  afterAll(async () => {
    await api?.close();
    for (const feed of feeds) await feed.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  });

  it('reopens the stored sockets when the app starts again, and not the deleted ones', async () => {
    const [kept, deleted] = [await FeedServer.start(), await FeedServer.start()];
    feeds.push(kept, deleted);
    api = await start();
    const keptId = uniqueId('kept');
    const deletedId = uniqueId('deleted');
    await api.http
      .post('/admin/outbound-sockets')
      .set(admin)
      .send({ url: kept.url, socket_id: keptId, relay_to_groups: ['restart'] })
      .expect(201);
    await api.http.post('/admin/outbound-sockets').set(admin).send({ url: deleted.url, socket_id: deletedId }).expect(201);
    await eventually(() => kept.open === 1 && deleted.open === 1);
    await api.http.delete(`/admin/outbound-sockets/${deletedId}`).set(admin).expect(204);

    await api.close();
    api = undefined;
    await eventually(() => kept.open === 0);
    expect(kept.latest!.closed).toEqual({ code: 1001, reason: 'going away' });
    api = await start();

    await eventually(() => kept.open === 1, 15_000, 50, 'the kept socket reopened');
    expect(kept.connections).toHaveLength(2);
    // both were stored before the restart and would have been taken in the same pass
    expect(deleted.connections).toHaveLength(1);
    await eventually(async () => (await stateOf(api!, keptId)) === 'open');
    const reader = await createConsumer(api, { groups: ['restart'] });
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(reader.clientId, reader.token) });
    await socket.next();
    kept.send('{"after":"restart"}');
    expect((await socket.next()).data).toEqual({ after: 'restart' });
    socket.socket.terminate();
    await api.http.delete(`/admin/outbound-sockets/${keptId}`).set(admin).expect(204);
  });

  async function stateOf(on: RunningExperienceApi, socketId: string): Promise<string | undefined> {
    const answer = await on.http.get(`/admin/outbound-sockets/${socketId}`).set(admin);
    return answer.status === 200 ? answer.body.state : undefined;
  }
});

describe('what outbound sockets log', () => {
  it('names the socket and its URL without the query, and never a header value', async () => {
    const lines: string[] = [];
    const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
    // kept out of the test's output: the app logs at every level here
    const capture = (stream: NodeJS.WriteStream) =>
      Object.assign(stream, {
        write: (chunk: unknown) => {
          lines.push(String(chunk));
          return true;
        },
      });
    const upstream = await FeedServer.start();
    let api: RunningExperienceApi | undefined;
    capture(process.stdout);
    capture(process.stderr);
    try {
      const app = await createExperienceApp(
        loadExperienceConfig({ PORT: '0', ADMIN_TOKEN, PGLITE_DATA_DIR: 'memory://', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }),
        ['log', 'warn', 'error', 'debug'],
      );
      await app.listen(0, '127.0.0.1');
      const http = request(app.getHttpServer());
      api = { app, http, httpUrl: '', wsUrl: '', close: () => app.close() };
      const socketId = uniqueId('logged');
      await http
        .post('/admin/outbound-sockets')
        .set(admin)
        .send({ url: `${upstream.url}?token=query-secret-777`, socket_id: socketId, headers: { 'X-Api-Key': 'header-secret-555' }, reconnect: FAST })
        .expect(201);
      await eventually(() => upstream.open === 1);
      await upstream.stop();
      await eventually(() => lines.some((line) => line.includes(`outbound socket ${socketId} (`)));
      await upstream.listen();
      await eventually(() => upstream.open === 1);
      await http.delete(`/admin/outbound-sockets/${socketId}`).set(admin).expect(204);
      await eventually(() => lines.some((line) => line.includes(`outbound socket ${socketId}: closed (1000`)));
    } finally {
      Object.assign(process.stdout, { write: writes.stdout });
      Object.assign(process.stderr, { write: writes.stderr });
      await api?.close();
      await upstream.stop();
    }

    const logged = lines.join('');
    expect(logged).toContain(`connecting to ${upstream.url}`);
    expect(logged).not.toContain('query-secret-777');
    expect(logged).not.toContain('header-secret-555');
  });
});
