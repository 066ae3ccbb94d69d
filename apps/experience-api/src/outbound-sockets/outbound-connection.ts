import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { Backoff, type Clock, type TimerHandle } from '@app/platform';
import { RegisteredSocket, type SocketRegistry, type SocketState } from '@app/socket-registry';
import type { OutboundSocketSpec } from './outbound-socket.js';
import type { RelayQueue } from './relay-queue.js';

/** What happens to an outbound socket, for its manager to log, record and emit. */
export interface OutboundConnectionEvents {
  stateChanged(connection: OutboundConnection, state: SocketState): void;
  connected(connection: OutboundConnection): void;
  message(connection: OutboundConnection, data: string | Buffer, binary: boolean): void;
  /** A connection that had opened closed. */
  closed(connection: OutboundConnection, code: number, reason: string): void;
  /** A connection attempt failed or an open connection broke (before `closed`, when it had opened). */
  failure(connection: OutboundConnection, error: Error): void;
  /** Before a reconnect, the socket turned out to be deleted or held elsewhere: it should be stopped here. */
  unwanted(connection: OutboundConnection): void;
}

export interface OutboundConnectionDeps {
  readonly clock: Clock;
  readonly registry: SocketRegistry;
  /** Opens a client connection to the spec's URL with its headers. */
  readonly connect: (spec: OutboundSocketSpec) => WebSocket;
  /** Asked before each reconnect: false when the socket was deleted or another instance holds it now. */
  readonly mayReconnect: (socketId: string) => Promise<boolean>;
  readonly events: OutboundConnectionEvents;
  /** Pings the peer this often; a peer that has not answered the previous ping by then is dropped (and reconnected). 0: never. */
  readonly heartbeatMs: number;
  /** Jitter of the reconnect waits; Math.random when not given. */
  readonly random?: () => number;
}

/**
 * One outbound socket on the instance that holds it: registered in the
 * SocketRegistry (type `outbound`) from the start until it is stopped, its
 * `state` connecting → open → reconnecting → open … or → failed, and its
 * `socket` swapped for each new connection.
 *
 * A connection lost (or an attempt that fails) is retried after the backoff's
 * wait: `initial_delay`, doubled per failure (with jitter), capped at
 * `max_delay`. `attempts` failures in a row and the socket gives up
 * (`failed`); an open connection starts the count over.
 */
export class OutboundConnection {
  readonly entry: RegisteredSocket;
  private readonly backoff: Backoff;
  private reconnectTimer?: TimerHandle;
  private heartbeatTimer?: TimerHandle;
  private stopped = false;
  /** Names the current connection in relayed entity ids; a new one per connection. */
  private connectionTag = '';
  private received = 0;

  constructor(
    readonly spec: OutboundSocketSpec,
    private readonly deps: OutboundConnectionDeps,
    private readonly relay?: RelayQueue,
  ) {
    const url = new URL(spec.url);
    const port = url.port || (url.protocol === 'wss:' ? '443' : '80');
    this.backoff = new Backoff(
      { initialDelayMs: spec.reconnect.initialDelayMs, maxDelayMs: Math.max(spec.reconnect.initialDelayMs, spec.reconnect.maxDelayMs) },
      deps.random,
    );
    this.entry = new RegisteredSocket(spec.socketId, 'outbound', url.pathname, null, `${url.hostname}:${port}`, this.open());
    this.entry.state = 'connecting';
    deps.registry.add(this.entry, spec.groups);
  }

  get id(): string {
    return this.spec.socketId;
  }

  get state(): SocketState {
    return this.entry.state;
  }

  /** Closes the socket (a close frame when open) and takes it out of the registry for good. */
  stop(code = 1000, reason = ''): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.relay?.stop();
    if (this.deps.registry.get(this.id) === this.entry) this.deps.registry.remove(this.id);
    const { socket } = this.entry;
    if (socket.readyState !== WebSocket.OPEN) return socket.terminate();
    try {
      socket.close(code, reason);
    } catch {
      // a code or reason no close frame may carry: the connection goes without one
      socket.terminate();
    }
  }

  /** Stops reading from the peer (relays are behind); a connection opened meanwhile starts paused. */
  pause(): void {
    this.entry.socket.pause();
  }

  resume(): void {
    this.entry.socket.resume();
  }

  private open(): WebSocket {
    const socket = this.deps.connect(this.spec);
    socket.on('open', () => this.opened(socket));
    socket.on('message', (data: Buffer, binary: boolean) => this.message(socket, data, binary));
    socket.on('pong', () => alive.add(socket));
    socket.on('error', (error: Error) => {
      if (socket === this.entry?.socket && !this.stopped) this.deps.events.failure(this, error);
    });
    socket.once('close', (code: number, reason: Buffer) => this.lost(socket, code, reason.toString()));
    return socket;
  }

  private opened(socket: WebSocket): void {
    if (socket !== this.entry.socket || this.stopped) return;
    this.backoff.succeed();
    this.connectionTag = randomBytes(4).toString('hex');
    this.received = 0;
    if (this.relay?.paused) socket.pause();
    this.setState('open');
    this.deps.events.connected(this);
    this.heartbeat(socket);
  }

  private message(socket: WebSocket, data: Buffer, binary: boolean): void {
    if (socket !== this.entry.socket || this.stopped) return;
    const text = binary ? undefined : data.toString('utf8');
    this.deps.events.message(this, text ?? data, binary);
    this.received++;
    if (text !== undefined && this.relay) this.relay.push({ id: `${this.id}:${this.connectionTag}:${this.received}`, dataText: relayedData(text) });
  }

  private lost(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.entry.socket) return;
    const wasOpen = this.entry.state === 'open';
    this.clearTimers();
    if (wasOpen) this.deps.events.closed(this, code, reason);
    if (this.stopped) return;
    const wait = this.backoff.fail();
    if (this.backoff.failures > this.spec.reconnect.attempts) {
      this.setState('failed');
      return;
    }
    this.setState('reconnecting');
    this.reconnectTimer = this.deps.clock.setTimer(() => void this.reconnect(), wait);
  }

  private async reconnect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    let wanted = true;
    try {
      wanted = await this.deps.mayReconnect(this.id);
    } catch {
      // the store is out of reach: the feed is not, perhaps; the lease decides who holds the socket
    }
    if (this.stopped) return;
    if (!wanted) {
      this.deps.events.unwanted(this);
      return;
    }
    this.entry.socket = this.open();
  }

  /** Pings every `heartbeatMs`; a peer that did not answer the last ping is dropped, which reconnects. */
  private heartbeat(socket: WebSocket): void {
    if (this.deps.heartbeatMs <= 0) return;
    alive.add(socket);
    const beat = () => {
      if (socket !== this.entry.socket || this.stopped || socket.readyState !== WebSocket.OPEN) return;
      if (!alive.has(socket)) {
        socket.terminate();
        return;
      }
      alive.delete(socket);
      socket.ping();
      this.heartbeatTimer = this.deps.clock.setTimer(beat, this.deps.heartbeatMs);
    };
    this.heartbeatTimer = this.deps.clock.setTimer(beat, this.deps.heartbeatMs);
  }

  private setState(state: SocketState): void {
    if (this.entry.state === state) return;
    this.entry.state = state;
    this.deps.events.stateChanged(this, state);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) this.deps.clock.clearTimer(this.reconnectTimer);
    if (this.heartbeatTimer) this.deps.clock.clearTimer(this.heartbeatTimer);
    this.reconnectTimer = this.heartbeatTimer = undefined;
  }
}

/** Sockets that answered their last ping. */
const alive = new WeakSet<WebSocket>();

/** Deeper JSON is relayed as a string, as POST /entity refuses it: a consumer's parser may not cope. */
const MAX_JSON_DEPTH = 64;

/**
 * The entity data a text message becomes: the message itself when it is a
 * JSON text (kept exactly as sent), otherwise the message as a JSON string.
 */
export function relayedData(text: string): string {
  try {
    JSON.parse(text);
  } catch {
    return JSON.stringify(text);
  }
  return depthOf(text) > MAX_JSON_DEPTH ? JSON.stringify(text) : text;
}

/** The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count). */
function depthOf(json: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
