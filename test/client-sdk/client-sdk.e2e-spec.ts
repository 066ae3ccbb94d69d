import {
  connect,
  register,
  type ConnectionHandle,
  type ConnectOptions,
  type EntityFrame,
  type PushGatewayError,
  type WelcomeFrame,
} from '@push-gateway/client';
import { ADMIN_TOKEN, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { WebSocket } from 'ws';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { eventually } from '../support/time/eventually.js';

// The client SDK (packages/client) against a real experience-api: registration, delivery in order, recovery after
// the gateway closes the socket, token renewal, backing off on 409, and stopping when told to.

/** Everything a connection reported, in order. */
class Recorder {
  readonly welcomes: WelcomeFrame[] = [];
  readonly entities: EntityFrame[] = [];
  readonly errors: PushGatewayError[] = [];
  readonly closes: number[] = [];

  handlers(): Pick<ConnectOptions, 'onEntity' | 'onWelcome' | 'onError' | 'onClose'> {
    return {
      onEntity: (entity) => this.entities.push(entity),
      onWelcome: (welcome) => this.welcomes.push(welcome),
      onError: (error) => this.errors.push(error),
      onClose: ({ code }) => this.closes.push(code),
    };
  }

  get seqs(): number[] {
    return this.entities.map((entity) => entity.seq);
  }
}

describe('the client SDK', () => {
  let api: RunningExperienceApi;
  const open: ConnectionHandle[] = [];
  const fast = { initialDelayMs: 50, maxDelayMs: 500, jitter: true };

  beforeAll(async () => {
    api = await startExperienceApi();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connection) => connection.close()));
  });

  afterAll(async () => {
    await api.close();
  });

  async function createClient(groups = ['orders']): Promise<{ clientId: string; clientSecret: string }> {
    const clientId = uniqueClientId('sdk');
    const created = await api.http.post('/admin/clients').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ client_id: clientId, groups }).expect(201);
    return { clientId, clientSecret: created.body.client_secret as string };
  }

  async function publish(count: number, groups = ['orders']): Promise<number[]> {
    const seqs: number[] = [];
    for (let index = 0; index < count; index++) {
      const answer = await api.http.post('/entity').send({ groups, data: { index } }).expect(202);
      seqs.push(answer.body.seq as number);
    }
    return seqs;
  }

  function start(options: Omit<ConnectOptions, 'url' | 'onEntity'>, recorder: Recorder): ConnectionHandle {
    const connection = connect({ url: api.httpUrl, reconnect: fast, ...recorder.handlers(), ...options });
    open.push(connection);
    return connection;
  }

  async function closeSocket(socketId: string, code: number): Promise<void> {
    await api.http.delete(`/admin/sockets/${socketId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ code, reason: 'test' }).expect(204);
  }

  it('registers, connects and receives every entity in seq order', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token, expiresAt } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt === undefined || expiresAt.getTime() > Date.now()).toBe(true);

    const recorder = new Recorder();
    const connection = start({ clientId, token }, recorder);
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');
    expect(recorder.welcomes[0]).toMatchObject({ type: 'welcome', client_id: clientId, groups: ['orders'] });
    expect(connection.socketId).toBe(recorder.welcomes[0].socket_id);
    expect(connection.epoch).toBe(recorder.welcomes[0].epoch);

    const published = await publish(10);
    await eventually(() => recorder.entities.length === 10, 15_000, 20, 'ten entities');
    expect(recorder.seqs).toEqual(published);
    expect(connection.lastSeq).toBe(published.at(-1));
    expect(recorder.errors).toEqual([]);
  });

  it('registers by itself when given only the secret, and refuses to go on with a wrong one', async () => {
    const { clientId, clientSecret } = await createClient();
    const recorder = new Recorder();
    const connection = start({ clientId, clientSecret }, recorder);
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');
    expect(connection.token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const wrong = new Recorder();
    const refused = start({ clientId, clientSecret: 'not-the-secret-at-all' }, wrong);
    const stopped = await refused.done;
    expect(stopped).toMatchObject({ by: 'gateway', error: { kind: 'registration', status: 401 } });
    expect(wrong.welcomes).toEqual([]);
  });

  it('reconnects after the gateway closes its socket, recovering what it missed: nothing lost, nothing repeated', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const recorder = new Recorder();
    // a longer first delay, so that entities are published while it is away
    const connection = start({ clientId, token, reconnect: { initialDelayMs: 400, maxDelayMs: 1_000, jitter: false } }, recorder);
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');
    const before = await publish(3);
    await eventually(() => recorder.entities.length === 3, 15_000, 20, 'three entities');

    await closeSocket(connection.socketId!, 4000);
    await eventually(() => recorder.closes.length === 1, 15_000, 20, 'the close');
    expect(recorder.closes).toEqual([4000]);
    const during = await publish(5);
    await eventually(() => recorder.welcomes.length === 2, 15_000, 20, 'the second welcome');
    const after = await publish(2);
    await eventually(() => recorder.entities.length === 10, 15_000, 20, 'every entity');

    expect(recorder.welcomes[1]).toMatchObject({ recovered: true, epoch: recorder.welcomes[0].epoch });
    expect(recorder.welcomes[1].missed).toBeGreaterThanOrEqual(1);
    expect(recorder.seqs).toEqual([...before, ...during, ...after]);
    expect(connection.lastSeq).toBe(after.at(-1));
  });

  it('resumes from the seq and epoch of an earlier run', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const first = new Recorder();
    const earlier = start({ clientId, token }, first);
    await eventually(() => first.welcomes.length === 1, 15_000, 20, 'the welcome');
    const seen = await publish(2);
    await eventually(() => first.entities.length === 2, 15_000, 20, 'two entities');
    await earlier.close();
    const { lastSeq, epoch } = earlier;

    const missed = await publish(3);
    const second = new Recorder();
    const later = start({ clientId, token, lastSeq, epoch }, second);
    await eventually(() => second.entities.length === 3, 15_000, 20, 'the missed entities');
    expect(lastSeq).toBe(seen.at(-1));
    expect(second.welcomes[0]).toMatchObject({ recovered: true, missed: 3 });
    expect(second.seqs).toEqual(missed);
    expect(later.lastSeq).toBe(missed.at(-1));
  });

  it('renews its token when the gateway refuses it (401), then comes back and recovers', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const recorder = new Recorder();
    const connection = start({ clientId, token, clientSecret }, recorder);
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');

    // registered again elsewhere: the SDK's token is dead; the open socket lives on until closed
    const rotated = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    await closeSocket(connection.socketId!, 4000);
    await eventually(() => recorder.closes.length === 1, 15_000, 20, 'the close');
    const missed = await publish(2);
    await eventually(() => recorder.welcomes.length === 2, 15_000, 20, 'the welcome after renewal');
    await eventually(() => recorder.entities.length === 2, 15_000, 20, 'the missed entities');

    expect(recorder.errors.map(({ kind, status }) => ({ kind, status }))).toEqual([{ kind: 'refused', status: 401 }]);
    expect(connection.token).not.toBe(token);
    expect(connection.token).not.toBe(rotated.token);
    expect(recorder.welcomes[1]).toMatchObject({ recovered: true });
    expect(recorder.seqs).toEqual(missed);
  });

  it('in a browser, passes its credentials, groups and position as subprotocols and the query, and recovers', async () => {
    // ws's WebSocket has the browser's interface (onopen, onmessage, onclose): it stands in for the global one
    const global = globalThis as { WebSocket?: unknown };
    const before = global.WebSocket;
    global.WebSocket = WebSocket;
    try {
      const { clientId, clientSecret } = await createClient(['orders', 'billing']);
      const recorder = new Recorder();
      const connection = start({ clientId, clientSecret, groups: ['billing'], transport: 'browser' }, recorder);
      await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');
      expect(recorder.welcomes[0].groups).toEqual(['billing']);
      await publish(1, ['orders']);
      const seen = await publish(2, ['billing']);
      await eventually(() => recorder.entities.length === 2, 15_000, 20, 'two entities');

      await closeSocket(connection.socketId!, 4000);
      await eventually(() => recorder.closes.length === 1, 15_000, 20, 'the close');
      const missed = await publish(2, ['billing']);
      await eventually(() => recorder.entities.length === 4, 15_000, 20, 'every entity');
      expect(recorder.welcomes[1]).toMatchObject({ recovered: true, groups: ['billing'] });
      expect(recorder.seqs).toEqual([...seen, ...missed]);
    } finally {
      global.WebSocket = before;
    }
  });

  it('stops on a 401 when it has no secret to register with', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const recorder = new Recorder();
    const stopped = await start({ clientId, token }, recorder).done;
    expect(stopped).toMatchObject({ by: 'gateway', error: { kind: 'refused', status: 401, code: 'unauthorized' } });
    expect(recorder.welcomes).toEqual([]);
  });

  it('stops on a 403: a group that is not granted is a mistake to fix, not to retry', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const stopped = await start({ clientId, token, groups: ['billing'] }, new Recorder()).done;
    expect(stopped).toMatchObject({ by: 'gateway', error: { kind: 'refused', status: 403 } });
  });

  it('backs off while another connection of its client is open (409), and connects once it is gone', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const other = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, token) });
    await other.next();

    const recorder = new Recorder();
    start({ clientId, token }, recorder);
    await eventually(() => recorder.errors.filter((error) => error.status === 409).length >= 2, 15_000, 20, 'two 409 refusals');
    expect(recorder.welcomes).toEqual([]);
    await other.close();
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');
  });

  it('stops when its client is deleted (1008)', async () => {
    const { clientId, clientSecret } = await createClient();
    const recorder = new Recorder();
    const connection = start({ clientId, clientSecret }, recorder);
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');
    await api.http.delete(`/admin/clients/${clientId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(204);
    expect(await connection.done).toEqual({ by: 'gateway', code: 1008 });
  });

  it('does not reconnect after close()', async () => {
    const { clientId, clientSecret } = await createClient();
    const { token } = await register({ baseUrl: api.httpUrl, clientId, clientSecret });
    const recorder = new Recorder();
    const connection = start({ clientId, token, reconnect: { initialDelayMs: 10, maxDelayMs: 10, jitter: false } }, recorder);
    await eventually(() => recorder.welcomes.length === 1, 15_000, 20, 'the welcome');

    await connection.close();
    expect(await connection.done).toEqual({ by: 'client' });
    // the client's one connection is free: had the SDK come back, this would be refused with 409
    const other = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(clientId, token) });
    expect(await other.next()).toMatchObject({ type: 'welcome' });
    await other.close();
    // a window of thirty reconnect delays, to observe that nothing happens in it (nothing to wait for)
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recorder.welcomes).toHaveLength(1);
    expect(recorder.closes).toEqual([]);
    expect(recorder.errors).toEqual([]);
  });
});
