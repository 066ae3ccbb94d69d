import { PushGatewayError, retryAfter } from './errors.js';
import type { EntityFrame, ErrorFrame, MessageFrame, ServerFrame, WelcomeFrame } from './frames.js';
import { httpBase, register } from './register.js';
import { opener, type Attempt, type Opener, type TransportKind } from './transport.js';

export interface ReconnectOptions {
  /** The first delay after a failure (default 1,000 ms); it doubles with every failure in a row. */
  readonly initialDelayMs?: number;
  /** The longest delay (default 30,000 ms). */
  readonly maxDelayMs?: number;
  /** Full jitter (default true): each delay is drawn uniformly between 0 and the current bound. */
  readonly jitter?: boolean;
}

/** How a socket closed, and what the SDK does next. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** The delay before the next attempt; undefined when the SDK stops (see `ConnectionHandle.done`). */
  readonly reconnectInMs?: number;
}

/** Why the SDK stopped for good. */
export interface Stopped {
  /** `client`: close() was called; `gateway`: a close code or refusal that retrying cannot fix. */
  readonly by: 'client' | 'gateway';
  /** The close code, when a socket's close stopped it. */
  readonly code?: number;
  /** What stopped it, when it was a refusal or an error. */
  readonly error?: PushGatewayError;
}

export interface ConnectOptions {
  /** The gateway: `http://127.0.0.1:3000`, or `ws://127.0.0.1:3000/ws/publish`. */
  readonly url: string;
  readonly clientId: string;
  /** The consumer token from `register()`. Without it, `clientSecret` is used to register first. */
  readonly token?: string;
  /** The client's secret: lets the SDK register for a new token when the gateway refuses its token (401). Registering rotates the token of every consumer of the client. */
  readonly clientSecret?: string;
  /** The groups to join (a `groups` header, or `?groups=` in browsers); absent: the client's default groups. */
  readonly groups?: readonly string[];
  /** Where this consumer stopped, kept from an earlier run: the highest `seq` it processed... */
  readonly lastSeq?: number;
  /** ...and the epoch it belongs to. */
  readonly epoch?: string;
  /** Each entity, in `seq` order: replayed ones after a recovering welcome, then live ones. */
  onEntity(entity: EntityFrame, connection: ConnectionHandle): void;
  /** Each welcome. With `recovered: false`, resynchronise from the source of truth: nothing missed is replayed. */
  onWelcome?(welcome: WelcomeFrame, connection: ConnectionHandle): void;
  onMessage?(message: MessageFrame, connection: ConnectionHandle): void;
  /** Error frames (kind `frame`), refused handshakes (`refused`), failed registrations (`registration`), network errors (`socket`). */
  onError?(error: PushGatewayError, connection: ConnectionHandle): void;
  /** Each socket that closed, or handshake that failed, with what comes next. */
  onClose?(info: CloseInfo, connection: ConnectionHandle): void;
  /** Every frame as received, before the handlers above: its text and what it parses to. */
  onFrame?(frame: ServerFrame, text: string, connection: ConnectionHandle): void;
  readonly reconnect?: ReconnectOptions;
  /** `node` (the ws package, credentials as headers) or `browser` (global WebSocket, credentials as subprotocols); default: node when ws loads. */
  readonly transport?: TransportKind;
}

export interface ConnectionHandle {
  /** The highest `seq` received (or the welcome's `last_seq` when no replay follows it); send it back after a restart. */
  readonly lastSeq: number | undefined;
  /** The epoch `lastSeq` belongs to. */
  readonly epoch: string | undefined;
  /** The current token (renewed after a 401 when `clientSecret` was given). */
  readonly token: string | undefined;
  /** The open socket's id, from its welcome; undefined between connections. */
  readonly socketId: string | undefined;
  /** Resolves once the SDK has stopped for good: after close(), or a refusal or close code that retrying cannot fix. */
  readonly done: Promise<Stopped>;
  /** Closes the socket (1000) and stops reconnecting; resolves once the socket is closed. */
  close(): Promise<void>;
}

/** Close codes after which reconnecting cannot help: an operator's 1000, a deleted client or broken rule (1008), a frame too big (1009). */
const STOP_CODES = new Set([1000, 1008, 1009]);
/** Refusals that are a configuration or code error: fix them rather than retry. */
const STOP_STATUSES = new Set([400, 403, 404, 431]);

class Connection implements ConnectionHandle {
  lastSeq: number | undefined;
  epoch: string | undefined;
  token: string | undefined;
  socketId: string | undefined;
  readonly done: Promise<Stopped>;

  private finish!: (stopped: Stopped) => void;
  private stopped = false;
  private failures = 0;
  private renewed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt: Attempt | undefined;
  private socketClosed: Promise<void> = Promise.resolve();
  private readonly url: string;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: boolean;

  constructor(
    private readonly options: ConnectOptions,
    private readonly open: Promise<Opener>,
  ) {
    this.lastSeq = options.lastSeq;
    this.epoch = options.lastSeq === undefined ? undefined : options.epoch;
    this.token = options.token;
    this.url = publishUrl(options.url);
    this.initialDelayMs = options.reconnect?.initialDelayMs ?? 1_000;
    this.maxDelayMs = options.reconnect?.maxDelayMs ?? 30_000;
    this.jitter = options.reconnect?.jitter ?? true;
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  async close(): Promise<void> {
    this.stop({ by: 'client' });
    this.attempt?.close();
    await this.socketClosed;
  }

  /** One attempt: a token if needed, then a handshake. */
  async connect(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    if (this.token === undefined && !(await this.renew())) return;
    let openSocket: Opener;
    try {
      openSocket = await this.open;
    } catch (error) {
      this.stop({ by: 'gateway', error: new PushGatewayError('socket', (error as Error).message) });
      return;
    }
    if (this.stopped) return;
    let settled = false;
    let markClosed!: () => void;
    this.socketClosed = new Promise((resolve) => (markClosed = resolve));
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      this.attempt = undefined;
      this.socketId = undefined;
      markClosed();
      return true;
    };
    this.attempt = openSocket(
      { url: this.url, clientId: this.options.clientId, token: this.token!, groups: this.options.groups, lastSeq: this.lastSeq, epoch: this.epoch },
      {
        open: () => undefined,
        text: (text) => {
          if (!settled) this.frame(text);
        },
        failed: (error) => {
          if (!settled && !this.stopped) this.report(new PushGatewayError('socket', error.message));
        },
        refused: (status, code, message, retry) => {
          if (settle()) void this.refused(new PushGatewayError('refused', `refused with ${status}: ${message}`, status, code, retryAfter(retry)));
        },
        closed: (code, reason) => {
          if (settle()) this.closed(code, reason);
        },
      },
    );
  }

  private frame(text: string): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text);
    } catch {
      this.report(new PushGatewayError('socket', `a frame that is not JSON: ${text.slice(0, 100)}`));
      return;
    }
    this.call(() => this.options.onFrame?.(frame, text, this));
    switch (frame.type) {
      case 'welcome':
        this.welcome(frame);
        break;
      case 'entity':
        this.call(() => this.options.onEntity(frame, this));
        if (this.lastSeq === undefined || frame.seq > this.lastSeq) this.lastSeq = frame.seq;
        break;
      case 'message':
        this.call(() => this.options.onMessage?.(frame, this));
        break;
      case 'error':
        this.report(errorFromFrame(frame));
        break;
    }
  }

  private welcome(frame: WelcomeFrame): void {
    this.failures = 0;
    this.renewed = false;
    this.socketId = frame.socket_id;
    // recovered: true: the missed entities follow and bring lastSeq up to date, one by one, so that a connection
    // lost mid-replay resumes from the last one received. Otherwise everything above last_seq comes live.
    if (frame.recovered !== true) {
      const sameHistory = this.epoch === undefined || this.epoch === frame.epoch;
      this.lastSeq = frame.recovered === false || !sameHistory || this.lastSeq === undefined ? frame.last_seq : Math.max(this.lastSeq, frame.last_seq);
    }
    this.epoch = frame.epoch;
    this.call(() => this.options.onWelcome?.(frame, this));
  }

  private closed(code: number, reason: string): void {
    if (this.stopped) return;
    if (STOP_CODES.has(code)) {
      this.call(() => this.options.onClose?.({ code, reason }, this));
      this.stop({ by: 'gateway', code });
      return;
    }
    // 1012: the instance is stopping and has released the claim: at once (the first time); anything else backs off
    const delay = code === 1012 && this.failures === 0 ? (this.failures++, 0) : this.backoff();
    this.call(() => this.options.onClose?.({ code, reason, reconnectInMs: delay }, this));
    this.schedule(delay);
  }

  private async refused(error: PushGatewayError): Promise<void> {
    if (this.stopped) return;
    this.report(error);
    const status = error.status!;
    if (status === 401) {
      // the token was rotated or expired: a new one, once, then at once
      if (this.options.clientSecret === undefined || this.renewed) return this.stop({ by: 'gateway', error });
      this.renewed = true;
      this.token = undefined;
      this.schedule(0);
    } else if (STOP_STATUSES.has(status)) {
      this.stop({ by: 'gateway', error });
    } else {
      // 409 (the previous connection is not released yet), 429, 503, 5xx: later
      this.schedule(Math.max(this.backoff(), (error.retryAfterSeconds ?? 0) * 1_000));
    }
  }

  /** Registers for a new token; false when it failed (and what comes next is arranged). */
  private async renew(): Promise<boolean> {
    const clientSecret = this.options.clientSecret;
    if (clientSecret === undefined) {
      this.stop({ by: 'gateway', error: new PushGatewayError('registration', 'no token, and no clientSecret to register with') });
      return false;
    }
    try {
      this.token = (await register({ baseUrl: this.options.url, clientId: this.options.clientId, clientSecret })).token;
      return !this.stopped;
    } catch (error) {
      const failure = error as PushGatewayError;
      if (this.stopped) return false;
      this.report(failure);
      if (failure.status !== undefined && failure.status !== 429 && failure.status < 500) this.stop({ by: 'gateway', error: failure });
      else this.schedule(Math.max(this.backoff(), (failure.retryAfterSeconds ?? 0) * 1_000));
      return false;
    }
  }

  /** Exponential backoff, with full jitter unless turned off. */
  private backoff(): number {
    const bound = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(this.failures++, 30));
    return Math.round(this.jitter ? Math.random() * bound : bound);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.connect(), delayMs);
  }

  private stop(stopped: Stopped): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.finish(stopped);
  }

  private report(error: PushGatewayError): void {
    this.call(() => this.options.onError?.(error, this));
  }

  /** Runs a handler; what it throws is reported, not thrown into the socket's events. */
  private call(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      if (this.options.onError === undefined) throw error;
      this.options.onError(new PushGatewayError('socket', `a handler threw: ${(error as Error).message}`), this);
    }
  }
}

function errorFromFrame(frame: ErrorFrame): PushGatewayError {
  return new PushGatewayError('frame', frame.message, undefined, frame.code);
}

/** ws(s)://host:port/ws/publish from the gateway's base URL or its publish URL. */
export function publishUrl(url: string): string {
  const parsed = new URL(`${httpBase(url)}/ws/publish`);
  parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  return parsed.toString();
}

/**
 * Connects to the gateway and stays connected: receives every entity in `seq` order, reconnects with
 * exponential backoff and full jitter, says where it stopped so that the gateway replays what it missed,
 * and renews its token on a 401 when it has the client's secret. See docs/protocol.md, "Reconnecting".
 */
export function connect(options: ConnectOptions): ConnectionHandle {
  const connection = new Connection(options, opener(options.transport));
  void connection.connect();
  return connection;
}
