import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { RegisteredSocket } from './registered-socket.js';
import { SocketRegistry } from './socket-registry.js';
import type { BroadcastResult, SocketSelector, SocketType } from './socket-selector.js';

const MARKER = '__end_of_test_frames__';

/** A real client connected to the test server, with the server side of the same connection. */
class Peer {
  private readonly texts: string[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(
    readonly id: string,
    readonly client: WebSocket,
    readonly server: WebSocket,
  ) {
    client.on('message', (data, isBinary) => {
      this.texts.push(isBinary ? `<binary ${String(data)}>` : String(data));
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /**
   * The text frames received so far, and nothing more in flight: a marker sent
   * after them on the same connection must arrive, and frames arrive in order.
   */
  async received(): Promise<string[]> {
    this.server.send(MARKER);
    while (!this.texts.includes(MARKER)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.texts.splice(0).filter((text) => text !== MARKER);
  }
}

describe(SocketRegistry.name, () => {
  let wss: WebSocketServer;
  let url: string;
  const accepted = new Map<string, (socket: WebSocket) => void>();
  const peers: Peer[] = [];
  let counter = 0;
  let sut: SocketRegistry;

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (socket, request) => accepted.get(request.url ?? '')?.(socket));
  });

  beforeEach(() => {
    sut = new SocketRegistry({ maxBufferedBytes: 64 * 1024 });
  });

  afterEach(() => {
    for (const peer of peers.splice(0)) {
      peer.client.terminate();
      peer.server.terminate();
    }
  });

  afterAll(async () => {
    await new Promise((resolve) => wss.close(resolve));
  });

  interface Options {
    type?: SocketType;
    path?: string;
    clientId?: string | null;
    groups?: string[];
  }

  /** Opens a real connection and registers its server side. */
  async function connect(options: Options = {}, registry: SocketRegistry = sut): Promise<Peer> {
    const id = `socket-${++counter}`;
    const serverSide = new Promise<WebSocket>((resolve) => accepted.set(`/${id}`, resolve));
    const client = new WebSocket(`${url}/${id}`);
    const [server] = await Promise.all([serverSide, once(client, 'open')]);
    accepted.delete(`/${id}`);
    const peer = new Peer(id, client, server);
    peers.push(peer);
    const entry = new RegisteredSocket(
      id,
      options.type ?? 'inbound',
      options.path ?? '/ws/publish',
      options.clientId === undefined ? 'client-a' : options.clientId,
      '127.0.0.1',
      server,
    );
    registry.add(entry, options.groups ?? []);
    return peer;
  }

  /** One frame to the selected sockets. */
  function deliver(frame: Buffer, selector: SocketSelector): BroadcastResult {
    return sut.deliverAll([{ frame, selector }])[0];
  }

  function frame(text: string): Buffer {
    return Buffer.from(text, 'utf8');
  }

  async function receivedBy(peers: Peer[]): Promise<string[][]> {
    return Promise.all(peers.map((peer) => peer.received()));
  }

  describe('groups', () => {
    it('adds groups to those a socket has, ignoring repeats', async () => {
      const peer = await connect({ groups: ['eu'] });

      expect(sut.subscribe(peer.id, ['us', 'eu', 'us'])).toEqual(['eu', 'us']);
      expect(sut.subscribe(peer.id, ['audit'])).toEqual(['eu', 'us', 'audit']);
      expect([...sut.get(peer.id)!.groups]).toEqual(['eu', 'us', 'audit']);

      expect(deliver(frame('to-us'), { groups: ['us'] })).toEqual({ recipients: 1, failures: [] });
      expect(deliver(frame('to-eu'), { groups: ['eu'] })).toEqual({ recipients: 1, failures: [] });
      expect(await peer.received()).toEqual(['to-us', 'to-eu']);
    });

    it('removes groups on unsubscribe, ignoring groups the socket does not have', async () => {
      const peer = await connect({ groups: ['eu', 'us'] });

      expect(sut.unsubscribe(peer.id, ['eu', 'never-joined'])).toEqual(['us']);

      expect(deliver(frame('to-eu'), { groups: ['eu'] })).toEqual({ recipients: 0, failures: [] });
      expect(deliver(frame('to-us'), { groups: ['us'] })).toEqual({ recipients: 1, failures: [] });
      expect(await peer.received()).toEqual(['to-us']);
    });

    it('lets a socket rejoin a group it left', async () => {
      const peer = await connect({ groups: ['eu'] });
      sut.unsubscribe(peer.id, ['eu']);

      expect(sut.subscribe(peer.id, ['eu'])).toEqual(['eu']);

      deliver(frame('to-eu'), { groups: ['eu'] });
      expect(await peer.received()).toEqual(['to-eu']);
    });

    it('answers undefined for a socket it does not know', () => {
      expect(sut.subscribe('unknown', ['eu'])).toBeUndefined();
      expect(sut.unsubscribe('unknown', ['eu'])).toBeUndefined();
    });
  });

  describe('selection', () => {
    let inboundA: Peer;
    let outboundB: Peer;
    let otherPathA: Peer;
    let anonymous: Peer;

    beforeEach(async () => {
      inboundA = await connect({ type: 'inbound', path: '/ws/publish', clientId: 'client-a', groups: ['eu'] });
      outboundB = await connect({ type: 'outbound', path: '/ws/publish', clientId: 'client-b', groups: ['us'] });
      otherPathA = await connect({ type: 'inbound', path: '/ws/other', clientId: 'client-a', groups: ['eu', 'us'] });
      anonymous = await connect({ type: 'inbound', path: '/ws/other', clientId: null });
    });

    async function deliverAndCollect(selector: SocketSelector): Promise<{ recipients: number; got: string[] }> {
      const result = deliver(frame('hello'), selector);
      expect(result.failures).toEqual([]);
      const all = [inboundA, outboundB, otherPathA, anonymous];
      const received = await receivedBy(all);
      // each recipient gets the frame exactly once
      for (const texts of received) expect(texts.length).toBeLessThanOrEqual(1);
      return { recipients: result.recipients, got: all.filter((_, i) => received[i].includes('hello')).map((peer) => peer.id) };
    }

    it('reaches every socket with an empty selector', async () => {
      const { recipients, got } = await deliverAndCollect({});

      expect(recipients).toBe(4);
      expect(got).toEqual([inboundA.id, outboundB.id, otherPathA.id, anonymous.id]);
    });

    it('selects by path', async () => {
      expect(await deliverAndCollect({ path: '/ws/other' })).toEqual({ recipients: 2, got: [otherPathA.id, anonymous.id] });
    });

    it('selects by type', async () => {
      expect(await deliverAndCollect({ type: 'outbound' })).toEqual({ recipients: 1, got: [outboundB.id] });
    });

    it('selects by client id', async () => {
      expect(await deliverAndCollect({ clientId: 'client-a' })).toEqual({ recipients: 2, got: [inboundA.id, otherPathA.id] });
    });

    it('selects sockets in any of the groups, each once', async () => {
      const { recipients, got } = await deliverAndCollect({ groups: ['eu', 'us'] });

      // otherPathA is in both groups and still gets one frame
      expect(recipients).toBe(3);
      expect([...got].sort()).toEqual([inboundA.id, outboundB.id, otherPathA.id].sort());
    });

    it('requires every field given to match', async () => {
      expect(await deliverAndCollect({ groups: ['us'], type: 'inbound' })).toEqual({ recipients: 1, got: [otherPathA.id] });
      expect(await deliverAndCollect({ groups: ['eu'], path: '/ws/publish', clientId: 'client-a' })).toEqual({
        recipients: 1,
        got: [inboundA.id],
      });
      expect(await deliverAndCollect({ clientId: 'client-b', path: '/ws/other' })).toEqual({ recipients: 0, got: [] });
    });

    it('selects one socket by id, if the other fields given match it', async () => {
      expect(await deliverAndCollect({ socketId: otherPathA.id })).toEqual({ recipients: 1, got: [otherPathA.id] });
      expect(await deliverAndCollect({ socketId: otherPathA.id, groups: ['us'] })).toEqual({ recipients: 1, got: [otherPathA.id] });
      expect(await deliverAndCollect({ socketId: otherPathA.id, type: 'outbound' })).toEqual({ recipients: 0, got: [] });
      expect(await deliverAndCollect({ socketId: inboundA.id, groups: ['us'] })).toEqual({ recipients: 0, got: [] });
      expect(await deliverAndCollect({ socketId: 'no-such-socket' })).toEqual({ recipients: 0, got: [] });
    });

    it('selects nothing for no groups or unknown groups', async () => {
      expect(await deliverAndCollect({ groups: [] })).toEqual({ recipients: 0, got: [] });
      expect(await deliverAndCollect({ groups: ['nobody'] })).toEqual({ recipients: 0, got: [] });
    });
  });

  describe('delivery of one frame', () => {
    it('sends the frame as text, byte for byte', async () => {
      const peer = await connect();
      const text = JSON.stringify({ type: 'entity', data: 'ünïcødé ✓' });

      deliver(frame(text), {});

      expect(await peer.received()).toEqual([text]);
    });

    it('counts recipients and reports sockets that are no longer open', async () => {
      const [open, gone, closing] = await Promise.all([connect(), connect(), connect()]);
      gone.client.close();
      await once(gone.server, 'close');
      closing.server.close(1001, 'going away');

      const result = deliver(frame('hello'), {});

      expect(result.recipients).toBe(1);
      expect(result.failures).toEqual([
        { socket_id: gone.id, reason: 'not_open' },
        { socket_id: closing.id, reason: 'not_open' },
      ]);
      expect(await open.received()).toEqual(['hello']);
    });

    it('drops a socket that cannot keep up and reports it as a slow consumer', async () => {
      const [slow, healthy] = await Promise.all([connect({ clientId: 'slow' }), connect({ clientId: 'healthy' })]);
      // the slow client stops reading, so what the server sends piles up on its side
      slow.client.pause();
      const big = frame('x'.repeat(256 * 1024));

      let slowResult: BroadcastResult | undefined;
      for (let i = 0; i < 400 && slowResult === undefined; i++) {
        const result = deliver(big, { clientId: 'slow' });
        if (result.failures.length > 0) slowResult = result;
        else await new Promise((resolve) => setImmediate(resolve));
      }

      expect(slowResult).toEqual({ recipients: 0, failures: [{ socket_id: slow.id, reason: 'slow_consumer' }] });
      const serverClosed = once(slow.server, 'close');
      expect(slow.server.readyState).not.toBe(WebSocket.OPEN);
      await serverClosed;
      // terminated, not closed politely: the client sees the connection drop
      slow.client.resume();
      expect((await slow.closed).code).toBe(1006);
      // other sockets are untouched
      expect(deliver(frame('still here'), {})).toEqual({
        recipients: 1,
        failures: [{ socket_id: slow.id, reason: 'not_open' }],
      });
      expect(await healthy.received()).toEqual(['still here']);
    });

    it('sends to a socket whose backlog is within the limit', async () => {
      const registry = new SocketRegistry({ maxBufferedBytes: 64 * 1024 * 1024 });
      const peer = await connect({}, registry);
      peer.client.pause();

      const results = Array.from({ length: 8 }, () => registry.deliverAll([{ frame: frame('y'.repeat(256 * 1024)), selector: {} }])[0]);

      expect(results.every((result) => result.recipients === 1 && result.failures.length === 0)).toBe(true);
      peer.client.resume();
      expect(await peer.received()).toHaveLength(8);
    });
  });

  describe('deliverAll', () => {
    it('delivers a burst in order, each frame once, to the sockets each frame selects', async () => {
      const [eu, us] = await Promise.all([connect({ clientId: 'eu-client', groups: ['eu'] }), connect({ clientId: 'us-client', groups: ['us'] })]);

      const results = sut.deliverAll([
        { frame: frame('1 all'), selector: {} },
        { frame: frame('2 all'), selector: {} },
        { frame: frame('3 eu'), selector: { groups: ['eu'] } },
        { frame: frame('4 all'), selector: {} },
        { frame: frame('5 us'), selector: { groups: ['us'] } },
      ]);

      expect(results.map((result) => result.recipients)).toEqual([2, 2, 1, 2, 1]);
      expect(await eu.received()).toEqual(['1 all', '2 all', '3 eu', '4 all']);
      expect(await us.received()).toEqual(['1 all', '2 all', '4 all', '5 us']);
    });

    it('frames payloads of every length byte for byte', async () => {
      const peer = await connect();
      // the three header sizes: 7-bit, 16-bit and 64-bit lengths, at their edges
      const texts = [0, 1, 125, 126, 65_535, 65_536, 100_000].map((length, i) => `${i}`.padEnd(length, 'x').slice(0, length));

      sut.deliverAll(texts.map((text) => ({ frame: frame(text), selector: {} })));

      expect(await peer.received()).toEqual(texts);
    });

    it('reports each delivery of a burst to a socket that has closed as not open', async () => {
      const [open, gone] = await Promise.all([connect(), connect()]);
      gone.client.close();
      await once(gone.server, 'close');

      const results = sut.deliverAll([
        { frame: frame('a'), selector: {} },
        { frame: frame('b'), selector: {} },
      ]);

      expect(results).toEqual([
        { recipients: 1, failures: [{ socket_id: gone.id, reason: 'not_open' }] },
        { recipients: 1, failures: [{ socket_id: gone.id, reason: 'not_open' }] },
      ]);
      expect(await open.received()).toEqual(['a', 'b']);
    });

    it('sends through ws, compressed, to a connection that negotiated permessage-deflate', async () => {
      const compressing = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
      await once(compressing, 'listening');
      try {
        const serverSide = once(compressing, 'connection');
        const client = new WebSocket(`ws://127.0.0.1:${(compressing.address() as AddressInfo).port}`);
        const received: string[] = [];
        client.on('message', (data) => received.push(String(data)));
        const [[server]] = await Promise.all([serverSide, once(client, 'open')]);
        expect(client.extensions).toContain('permessage-deflate');
        sut.add(new RegisteredSocket('deflating', 'inbound', '/ws/publish', 'client-z', '127.0.0.1', server as WebSocket));

        sut.deliverAll([
          { frame: frame('first'), selector: {} },
          { frame: frame('second '.repeat(100)), selector: {} },
        ]);
        deliver(frame('third'), {});

        while (received.length < 3) await once(client, 'message');
        expect(received).toEqual(['first', 'second '.repeat(100), 'third']);
        client.terminate();
      } finally {
        await new Promise((resolve) => compressing.close(resolve));
      }
    });
  });

  describe('a delivery that fails', () => {
    /** Resolves when the client gets a ping: proof that nothing the server writes is held back. */
    function pinged(peer: Peer): Promise<unknown> {
      const got = once(peer.client, 'ping');
      peer.server.ping();
      return got;
    }

    it('fails alone when its selector cannot be read, and leaves no socket corked', async () => {
      const [eu, us] = await Promise.all([connect({ clientId: 'eu-client', groups: ['eu'] }), connect({ clientId: 'us-client', groups: ['us'] })]);
      const unreadable = {
        get groups(): string[] {
          throw new Error('unreadable selector');
        },
      };

      const results = sut.deliverAll([
        { frame: frame('1 all'), selector: {} },
        { frame: frame('2 null groups'), selector: { groups: null as unknown as string[] } },
        { frame: frame('3 eu'), selector: { groups: ['eu'] } },
        { frame: frame('4 unreadable'), selector: unreadable },
        { frame: frame('5 all'), selector: {} },
      ]);

      expect(results.map((result) => [result.recipients, result.error?.message])).toEqual([
        [2, undefined],
        [0, expect.stringContaining('not iterable')],
        [1, undefined],
        [0, 'unreadable selector'],
        [2, undefined],
      ]);
      await Promise.all([pinged(eu), pinged(us)]);
      expect(await eu.received()).toEqual(['1 all', '3 eu', '5 all']);
      expect(await us.received()).toEqual(['1 all', '5 all']);
      expect(sut.deliverAll([{ frame: frame('later'), selector: {} }])[0].recipients).toBe(2);
      expect(await receivedBy([eu, us])).toEqual([['later'], ['later']]);
    });

    it('drops the socket whose write throws, and the others get every frame of the batch', async () => {
      const [healthy, broken, other] = await Promise.all([
        connect({ clientId: 'healthy', groups: ['eu'] }),
        connect({ clientId: 'broken', groups: ['eu'] }),
        connect({ clientId: 'other', groups: ['us'] }),
      ]);
      const transport = (broken.server as unknown as { _socket: { write: () => never } })._socket;
      transport.write = () => {
        throw new Error('write after end');
      };

      const results = sut.deliverAll([
        { frame: frame('1 eu'), selector: { groups: ['eu'] } },
        { frame: frame('2 all'), selector: {} },
        { frame: frame('3 us'), selector: { groups: ['us'] } },
      ]);

      expect(results).toEqual([
        { recipients: 1, failures: [{ socket_id: broken.id, reason: 'send_failed' }] },
        { recipients: 2, failures: [{ socket_id: broken.id, reason: 'not_open' }] },
        { recipients: 1, failures: [] },
      ]);
      expect((await broken.closed).code).toBe(1006);
      await Promise.all([pinged(healthy), pinged(other)]);
      expect(await receivedBy([healthy, other])).toEqual([
        ['1 eu', '2 all'],
        ['2 all', '3 us'],
      ]);
    });
  });

  describe('dropIfSlow', () => {
    it('drops a socket whose unsent bytes pass the limit, whatever wrote them', async () => {
      const [slow, healthy] = await Promise.all([connect({ clientId: 'slow' }), connect({ clientId: 'healthy' })]);
      slow.client.pause();
      const entry = sut.get(slow.id)!;
      expect(sut.dropIfSlow(entry)).toBe(false);
      // written past the registry, as ws writes pongs and close frames
      while (slow.server.bufferedAmount <= 64 * 1024) {
        slow.server.pong(Buffer.alloc(125));
        slow.server.send(Buffer.alloc(16 * 1024));
        await new Promise((resolve) => setImmediate(resolve));
      }

      expect(sut.dropIfSlow(entry)).toBe(true);

      slow.client.resume();
      expect((await slow.closed).code).toBe(1006);
      expect(sut.dropIfSlow(sut.get(healthy.id)!)).toBe(false);
      expect(healthy.client.readyState).toBe(WebSocket.OPEN);
    });
  });

  describe('close', () => {
    it('closes the selected sockets with the code and reason given', async () => {
      const [a1, a2, b] = await Promise.all([connect({ clientId: 'client-a' }), connect({ clientId: 'client-a' }), connect({ clientId: 'client-b' })]);

      expect(sut.close({ clientId: 'client-a' }, 4001, 'token revoked')).toBe(2);

      expect(await a1.closed).toEqual({ code: 4001, reason: 'token revoked' });
      expect(await a2.closed).toEqual({ code: 4001, reason: 'token revoked' });
      expect(b.client.readyState).toBe(WebSocket.OPEN);
      deliver(frame('still open'), { clientId: 'client-b' });
      expect(await b.received()).toEqual(['still open']);
    });

    it('closes a socket that has its own closer through it, and leaves its connection to it', async () => {
      const outbound = await connect({ type: 'outbound', clientId: null });
      const asked: Array<[number, string]> = [];
      sut.get(outbound.id)!.closer = (code, reason) => asked.push([code, reason]);

      expect(sut.close({ type: 'outbound' }, 4002, 'for good')).toBe(1);

      expect(asked).toEqual([[4002, 'for good']]);
      expect(outbound.client.readyState).toBe(WebSocket.OPEN);
    });

    it('closes nothing when nothing is selected', async () => {
      const peer = await connect({ groups: ['eu'] });

      expect(sut.close({ groups: ['us'] }, 4001, 'x')).toBe(0);
      expect(peer.client.readyState).toBe(WebSocket.OPEN);
    });
  });

  describe('remove', () => {
    it('forgets the socket without closing it', async () => {
      const [kept, removed] = await Promise.all([connect({ groups: ['eu'] }), connect({ groups: ['eu'] })]);
      expect(sut.size).toBe(2);

      expect(sut.remove(removed.id)?.id).toBe(removed.id);

      expect(sut.size).toBe(1);
      expect(sut.get(removed.id)).toBeUndefined();
      expect(sut.subscribe(removed.id, ['us'])).toBeUndefined();
      expect(deliver(frame('to-all'), {})).toEqual({ recipients: 1, failures: [] });
      expect(deliver(frame('to-eu'), { groups: ['eu'] })).toEqual({ recipients: 1, failures: [] });
      expect(sut.close({}, 4000, 'bye')).toBe(1);
      expect(await kept.closed).toEqual({ code: 4000, reason: 'bye' });
      // the removed socket got none of it, and is still open
      expect(removed.client.readyState).toBe(WebSocket.OPEN);
      expect(await removed.received()).toEqual([]);
    });

    it('answers undefined for a socket it does not know', () => {
      expect(sut.remove('unknown')).toBeUndefined();
    });
  });
});
