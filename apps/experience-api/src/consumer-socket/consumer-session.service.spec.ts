import { EventEmitter } from 'node:events';
import type { HttpAdapterHost } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { WebSocket } from 'ws';
import type { Alert, AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import { SocketRegistry } from '@app/socket-registry';
import type { ConsumerTokenService, LiveSocketService } from '@app/token-store';
import type { ExperienceConfig } from '../config/experience.config.js';
import type { EntityHistory } from '../history/entity-history.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { SocketEvent, type SocketClosedEvent, type SocketConnectedEvent } from '../socket-events/socket-events.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import { PAYLOAD_TOO_LARGE } from '../websocket-transport/oversize-frames.js';
import type { ConsumerAuthorization } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';

/** The server side of a consumer's socket, as the session sees it: what was sent, how it was closed. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: unknown[] = [];
  readonly pongs: Buffer[] = [];
  closedWith?: [number, string];
  terminated = false;

  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }

  pong(data: Buffer): void {
    this.pongs.push(data);
  }

  /** Called when the server sends its close frame. */
  onClose?: () => void;

  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.onClose?.();
    this.readyState = 2;
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }

  /** The peer's side of the close handshake completes. */
  finishClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.emit('close', code, Buffer.from(reason));
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

const ACME: ConsumerAuthorization = { socketId: 'socket-1', clientId: 'acme', groups: ['eu'], remoteAddress: '198.51.100.7' };

describe(ConsumerSessionService.name, () => {
  const PINGS_PER_SECOND = 2;
  let clock: ManualClock;
  let registry: SocketRegistry;
  let released: Array<[string, string]>;
  let touched: string[];
  let alerts: Alert[];
  /** What happened at shutdown, in order. */
  let stopping: string[];
  let socket: FakeSocket;
  let emitter: EventEmitter2;
  let sut: ConsumerSessionService;

  beforeEach(() => {
    clock = new ManualClock();
    registry = new SocketRegistry({ maxBufferedBytes: 64 * 1024 });
    released = [];
    touched = [];
    alerts = [];
    stopping = [];
    const liveSockets = {
      release: async (clientId: string, socketId: string) => void released.push([clientId, socketId]),
      releaseAll: async () => void stopping.push('claims released'),
    };
    const http = { httpAdapter: { getHttpServer: () => ({ close: () => stopping.push('listener closed') }) } };
    const tokens = { touch: async (clientId: string) => void touched.push(clientId) };
    emitter = new EventEmitter2();
    sut = new ConsumerSessionService(
      { maxPingsPerSecond: PINGS_PER_SECOND } as unknown as ExperienceConfig,
      registry,
      tokens as unknown as ConsumerTokenService,
      liveSockets as unknown as LiveSocketService,
      new GatewayMetrics(registry),
      { raise: (alert: Alert) => alerts.push(alert) } as unknown as AlertService,
      clock,
      http as unknown as HttpAdapterHost,
      new SocketEvents(emitter),
      { ready: true, deliveredSeq: 12, epoch: 'epoch-1' } as unknown as EntityHistory,
    );
    socket = new FakeSocket();
  });

  function open(): void {
    sut.open(socket as unknown as WebSocket, ACME);
  }

  it('welcomes the consumer with its socket id, client id and groups, and registers the socket', () => {
    open();

    expect(socket.sent).toEqual([{ type: 'welcome', socket_id: 'socket-1', client_id: 'acme', groups: ['eu'], last_seq: 12, epoch: 'epoch-1' }]);
    expect([...registry.select({ groups: ['eu'] })].map((entry) => entry.id)).toEqual(['socket-1']);
    expect(touched).toEqual(['acme']);
  });

  it('closes a consumer that sends a message with 1008 after an error frame, drops its socket id at once, and alerts DevOps', async () => {
    open();

    socket.emit('message', Buffer.from('hello'));
    socket.emit('message', Buffer.from('again'));
    await settle();

    expect(socket.sent.slice(1)).toEqual([{ type: 'error', code: 'messages_not_allowed', message: 'consumers may not send messages on /ws/publish' }]);
    expect(socket.closedWith).toEqual([1008, 'messages not allowed']);
    expect(registry.size).toBe(0);
    expect(released).toEqual([['acme', 'socket-1']]);
    expect(alerts).toEqual([
      expect.objectContaining({
        kind: 'consumer_message',
        details: expect.objectContaining({ client_id: 'acme', socket_id: 'socket-1', reason: 'messages_not_allowed' }),
      }),
    ]);
  });

  it('closes a consumer that sends a frame over the limit with 1009 after an error frame', async () => {
    open();

    socket.emit('error', Object.assign(new RangeError('Max payload size exceeded'), { code: PAYLOAD_TOO_LARGE }));
    await settle();

    expect(socket.sent.slice(1)).toEqual([{ type: 'error', code: 'message_too_large', message: expect.stringContaining('over the size limit') }]);
    expect(socket.closedWith).toEqual([1009, 'message too big']);
    expect(released).toEqual([['acme', 'socket-1']]);
  });

  it('answers pings within the allowance, which refills with time', async () => {
    open();

    socket.emit('ping', Buffer.from('1'));
    socket.emit('ping', Buffer.from('2'));
    await clock.advance(1_000);
    socket.emit('ping', Buffer.from('3'));
    socket.emit('ping', Buffer.from('4'));

    expect(socket.pongs.map(String)).toEqual(['1', '2', '3', '4']);
    expect(socket.closedWith).toBeUndefined();
  });

  it('drops a consumer that pings faster than its allowance: error frame, 1008, and no wait for its close', async () => {
    open();

    for (let i = 0; i <= PINGS_PER_SECOND; i++) socket.emit('ping', Buffer.from(String(i)));
    await settle();

    expect(socket.pongs).toHaveLength(PINGS_PER_SECOND);
    expect(socket.sent.slice(1)).toEqual([{ type: 'error', code: 'too_many_pings', message: 'more pings than the server answers' }]);
    expect(socket.closedWith).toEqual([1008, 'too many pings']);
    expect(socket.terminated).toBe(true);
    expect(alerts).toEqual([expect.objectContaining({ kind: 'consumer_ping_flood' })]);
  });

  it('releases the socket id and refreshes the token when the consumer goes', async () => {
    open();

    socket.finishClose(1000);
    await settle();

    expect(registry.size).toBe(0);
    expect(released).toEqual([['acme', 'socket-1']]);
    expect(touched).toEqual(['acme', 'acme']);
  });

  it('at shutdown stops listening, releases every claim, then closes every consumer with 1012 to reconnect elsewhere', async () => {
    open();
    socket.onClose = () => stopping.push('consumer closed');

    await sut.beforeApplicationShutdown();
    socket.finishClose(1012);
    await settle();

    expect(stopping).toEqual(['listener closed', 'claims released', 'consumer closed']);
    expect(socket.closedWith).toEqual([1012, 'server restarting']);
    expect(registry.size).toBe(0);
    // released all at once above, not one by one
    expect(released).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  describe('triggers', () => {
    /** Every connected and closed trigger, in order, with what the consumer had been sent when it fired. */
    function record(): Array<{ event: string; payload: SocketConnectedEvent | SocketClosedEvent; sentBefore: number }> {
      const seen: Array<{ event: string; payload: SocketConnectedEvent | SocketClosedEvent; sentBefore: number }> = [];
      emitter.on(SocketEvent.CONNECTED, (payload: SocketConnectedEvent) => seen.push({ event: 'connected', payload, sentBefore: socket.sent.length }));
      emitter.on(SocketEvent.CLOSED, (payload: SocketClosedEvent) => seen.push({ event: 'closed', payload, sentBefore: socket.sent.length }));
      return seen;
    }

    it('fires connected after the welcome, with the socket, its groups and when it connected', () => {
      const seen = record();

      open();

      expect(seen).toEqual([
        {
          event: 'connected',
          payload: {
            socketId: 'socket-1',
            type: 'inbound',
            path: '/ws/publish',
            clientId: 'acme',
            remoteAddress: '198.51.100.7',
            groups: ['eu'],
            connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          },
          sentBefore: 1,
        },
      ]);
    });

    it('fires closed once, with the code and reason of the close', async () => {
      const seen = record();
      open();

      socket.finishClose(4001, 'going home');
      socket.emit('close', 4001, Buffer.from('going home'));
      await settle();

      expect(seen.filter((e) => e.event === 'closed').map((e) => e.payload)).toEqual([
        { socketId: 'socket-1', type: 'inbound', path: '/ws/publish', clientId: 'acme', remoteAddress: '198.51.100.7', code: 4001, reason: 'going home' },
      ]);
    });

    it('fires closed once for a socket refused for a violation, with the close it was sent, when it is refused', async () => {
      const seen = record();
      open();

      for (let i = 0; i <= PINGS_PER_SECOND; i++) socket.emit('ping', Buffer.from(String(i)));
      const atRefusal = seen.filter((e) => e.event === 'closed').map((e) => e.payload);
      // terminated: the peer's close never comes, the socket reports 1006
      socket.finishClose(1006);
      await settle();

      expect(atRefusal).toEqual([expect.objectContaining({ socketId: 'socket-1', code: 1008, reason: 'too many pings' })]);
      expect(seen.filter((e) => e.event === 'closed')).toHaveLength(1);
    });

    it('keeps serving when a listener throws or rejects, and the other listeners still hear of it', async () => {
      emitter.on(SocketEvent.CONNECTED, () => {
        throw new Error('listener bug');
      });
      emitter.on(SocketEvent.CLOSED, async () => {
        throw new Error('async listener bug');
      });
      const seen = record();

      open();
      socket.finishClose(1000);
      await settle();

      expect(socket.sent).toEqual([expect.objectContaining({ type: 'welcome' })]);
      expect(seen.map((e) => e.event)).toEqual(['connected', 'closed']);
      expect(released).toEqual([['acme', 'socket-1']]);
    });
  });
});
