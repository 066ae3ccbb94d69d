import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { ManualClock } from '@app/platform';
import { SocketRegistry, type SocketState } from '@app/socket-registry';
import { OutboundConnection, type OutboundConnectionEvents, relayedData } from './outbound-connection.js';
import type { OutboundSocketSpec } from './outbound-socket.js';
import { RelayQueue, type RelayItem } from './relay-queue.js';

/** A client connection the test opens, breaks and answers by hand. */
class FakeSocket extends EventEmitter {
  readyState: number = WebSocket.CONNECTING;
  bufferedAmount = 0;
  paused = false;
  pings = 0;
  closedWith?: { code: number; reason: string };
  terminated = false;

  open(): void {
    this.readyState = WebSocket.OPEN;
    this.emit('open');
  }

  /** The connection failed or broke. */
  drop(code = 1006): void {
    if (this.readyState === WebSocket.CLOSED) return;
    this.readyState = WebSocket.CLOSED;
    this.emit('close', code, Buffer.alloc(0));
  }

  receive(text: string): void {
    this.emit('message', Buffer.from(text), false);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.drop(code);
  }

  terminate(): void {
    this.terminated = true;
    this.drop();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  ping(): void {
    this.pings++;
  }
}

const spec = (overrides: Partial<OutboundSocketSpec> = {}): OutboundSocketSpec => ({
  socketId: 'feed-1',
  url: 'ws://feed.example:9000/feed?token=t',
  headers: { Authorization: 'Bearer secret' },
  groups: ['ops'],
  relayToGroups: null,
  reconnect: { initialDelayMs: 1_000, maxDelayMs: 4_000, attempts: 3 },
  ...overrides,
});

describe(OutboundConnection.name, () => {
  let clock: ManualClock;
  let registry: SocketRegistry;
  let sockets: FakeSocket[];
  let states: SocketState[];
  let log: string[];
  let wanted: boolean;

  const events: OutboundConnectionEvents = {
    stateChanged: (_connection, state) => states.push(state),
    connected: () => log.push('connected'),
    message: (_connection, data) => log.push(`message ${String(data)}`),
    closed: (_connection, code) => log.push(`closed ${code}`),
    failure: () => undefined,
    unwanted: () => log.push('unwanted'),
  };

  function connect(overrides: Partial<OutboundSocketSpec> = {}, relay?: RelayQueue, heartbeatMs = 0): OutboundConnection {
    return new OutboundConnection(
      spec(overrides),
      {
        clock,
        registry,
        connect: () => {
          const socket = new FakeSocket();
          sockets.push(socket);
          return socket as unknown as WebSocket;
        },
        mayReconnect: async () => wanted,
        events,
        heartbeatMs,
        // the whole wait of each step: no jitter
        random: () => 1,
      },
      relay,
    );
  }

  const current = () => sockets[sockets.length - 1];

  beforeEach(() => {
    clock = new ManualClock(0);
    registry = new SocketRegistry({ maxBufferedBytes: 1_048_576 });
    sockets = [];
    states = [];
    log = [];
    wanted = true;
  });

  it('is registered as an outbound socket from the start, connecting, then open', () => {
    const sut = connect();

    const entry = registry.get('feed-1')!;
    expect(entry.info()).toMatchObject({
      socketId: 'feed-1',
      type: 'outbound',
      path: '/feed',
      clientId: null,
      remoteAddress: 'feed.example:9000',
      groups: ['ops'],
      state: 'connecting',
    });
    current().open();
    expect(sut.state).toBe('open');
    expect(log).toEqual(['connected']);
  });

  it('reconnects after initial_delay, doubling the wait per failure up to max_delay, on the same registry entry', async () => {
    const sut = connect({ reconnect: { initialDelayMs: 1_000, maxDelayMs: 3_000, attempts: 5 } });
    const entry = registry.get('feed-1')!;
    current().open();
    current().drop();
    expect(states).toEqual(['open', 'reconnecting']);

    const opensAt: number[] = [];
    for (let failure = 0; failure < 4; failure++) {
      const before = sockets.length;
      while (sockets.length === before) await clock.advance(100);
      opensAt.push(clock.now());
      current().drop();
    }

    // lost at 0; attempts after 1 s, then 2 s, 3 s (capped), 3 s
    expect(opensAt).toEqual([1_000, 3_000, 6_000, 9_000]);
    expect(registry.get('feed-1')).toBe(entry);
    expect(entry.socket).toBe(current() as unknown as WebSocket);
    expect(registry.size).toBe(1);
    expect(sut.state).toBe('reconnecting');
  });

  it('gives up after `attempts` failed attempts in a row: failed, still registered, nothing more tried', async () => {
    const sut = connect();
    current().drop(); // the first connection fails: 3 reconnect attempts follow
    for (let attempt = 0; attempt < 3; attempt++) {
      await clock.advance(10_000);
      current().drop();
    }

    expect(sut.state).toBe('failed');
    expect(sockets).toHaveLength(4);
    await clock.advance(3_600_000);
    expect(sockets).toHaveLength(4);
    expect(registry.get('feed-1')?.state).toBe('failed');
  });

  it('starts the count over once a connection opens', async () => {
    const sut = connect({ reconnect: { initialDelayMs: 1_000, maxDelayMs: 4_000, attempts: 2 } });
    current().open();
    current().drop();
    await clock.advance(1_000);
    current().drop();
    await clock.advance(2_000);
    current().open();
    current().drop();

    expect(sut.state).toBe('reconnecting');
    await clock.advance(999);
    expect(sockets).toHaveLength(3);
    await clock.advance(1);
    expect(sockets).toHaveLength(4);
  });

  it('with attempts 0, fails as soon as its connection is lost', () => {
    const sut = connect({ reconnect: { initialDelayMs: 1_000, maxDelayMs: 1_000, attempts: 0 } });
    current().open();
    current().drop(1001);

    expect(sut.state).toBe('failed');
    expect(log).toEqual(['connected', 'closed 1001']);
  });

  it('does not reconnect a socket deleted or held elsewhere meanwhile, and says so', async () => {
    connect();
    current().open();
    current().drop();
    wanted = false;

    await clock.advance(1_000);

    expect(sockets).toHaveLength(1);
    expect(log).toContain('unwanted');
  });

  it('stops for good: a close frame, out of the registry, no reconnect', async () => {
    const sut = connect();
    current().open();

    sut.stop(1000, 'deleted by an operator');
    await clock.advance(60_000);

    expect(current().closedWith).toEqual({ code: 1000, reason: 'deleted by an operator' });
    expect(registry.get('feed-1')).toBeUndefined();
    expect(sockets).toHaveLength(1);
    expect(log).toEqual(['connected', 'closed 1000']);
  });

  it('stops without a close frame when the code cannot be sent in one', () => {
    const sut = connect();
    current().open();
    current().close = () => {
      throw new TypeError('First argument must be a valid error code number');
    };

    sut.stop(1005, 'no status');

    expect(current().terminated).toBe(true);
    expect(registry.get('feed-1')).toBeUndefined();
  });

  it('stops a pending reconnect', async () => {
    const sut = connect();
    current().drop();

    sut.stop();
    await clock.advance(60_000);

    expect(sockets).toHaveLength(1);
  });

  it('drops a peer that stops answering pings, and reconnects', async () => {
    const sut = connect({}, undefined, 30_000);
    current().open();

    await clock.advance(30_000);
    expect(current().pings).toBe(1);
    current().emit('pong');
    await clock.advance(30_000);
    expect(current().pings).toBe(2);
    await clock.advance(30_000);

    expect(sockets[0].terminated).toBe(true);
    expect(sut.state).toBe('reconnecting');
    await clock.advance(1_000);
    expect(sockets).toHaveLength(2);
  });

  it('relays text messages with ids naming the socket, the connection and the message', async () => {
    const published: RelayItem[] = [];
    const relay = new RelayQueue(
      async (item) => void published.push(item),
      flowOf(() => sut),
      clock,
    );
    const sut = connect({ relayToGroups: ['news'] }, relay);
    current().open();
    current().receive('{"a":1}');
    current().receive('plain text');
    current().emit('message', Buffer.from([1, 2, 3]), true);
    await clock.advance(0);
    current().drop();
    await clock.advance(1_000);
    current().open();
    current().receive('[2]');
    await clock.advance(0);

    expect(published.map((item) => item.dataText)).toEqual(['{"a":1}', '"plain text"', '[2]']);
    const [first, second, third] = published.map((item) => item.id.split(':'));
    expect(first).toEqual(['feed-1', expect.stringMatching(/^[0-9a-f]{8}$/), '1']);
    expect(second).toEqual([first[0], first[1], '2']);
    expect(third[1]).not.toBe(first[1]);
    expect(third[2]).toBe('1');
  });
});

function flowOf(connection: () => OutboundConnection) {
  return { pause: () => connection().pause(), resume: () => connection().resume(), dropped: () => undefined, failed: () => undefined };
}

describe(relayedData.name, () => {
  it('keeps a JSON text exactly as sent', () => {
    expect(relayedData('{ "price": 1.10 }')).toBe('{ "price": 1.10 }');
    expect(relayedData('null')).toBe('null');
  });

  it('makes anything else a JSON string', () => {
    expect(relayedData('hello "world"')).toBe('"hello \\"world\\""');
    expect(relayedData('')).toBe('""');
  });

  it('makes JSON nested deeper than 64 levels a string, brackets inside strings not counted', () => {
    const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
    expect(relayedData(deep)).toBe(JSON.stringify(deep));
    const shallow = `["${'['.repeat(100)}"]`;
    expect(relayedData(shallow)).toBe(shallow);
  });
});
