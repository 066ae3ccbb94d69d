import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** How a target speaks: the push contract's plain text frames, or Socket.IO (engine.io v4) over a WebSocket. */
export type Dialect = 'plain' | 'socketio';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly dialect: Dialect;
}

export interface Credentials {
  readonly clientId: string;
  readonly token: string;
}

/**
 * The loopback address the `index`-th consumer connects from: consumers are
 * spread over 240 addresses (all of 127/8 reaches this machine), as real ones
 * come from many, so the gateway runs with its per-address handshake limit on.
 */
export function consumerAddress(index: number): string {
  return `127.0.0.${10 + (index % 240)}`;
}

/** What every consumer reports to the scenario that runs it. */
export interface ConsumerEvents {
  /** The welcome frame arrived: the consumer is connected. */
  welcomed(consumer: RawConsumer): void;
  /** The handshake failed (`status` 0: no HTTP answer at all). */
  refused(consumer: RawConsumer, status: number): void;
  /**
   * One entity frame; `sentAt` is the publisher's `performance.now()` read from the frame, NaN if absent;
   * `seq` is the frame's seq when the consumer tracks seqs (`trackSeq`), else NaN.
   */
  entity(consumer: RawConsumer, sentAt: number, seq: number): void;
  /** A welcomed consumer's connection ended without this side closing it. */
  lost(consumer: RawConsumer): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const T_FIELD = Buffer.from('"t":');
const SEQ_FIELD = Buffer.from('"seq":');
const PLAIN_PREFIX = Buffer.from('{"type":"');
const SIO_EVENT_PREFIX = Buffer.from('42["');

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/**
 * Reads the number after `field` (`"t":`, `"seq":`) without decoding the frame;
 * NaN when absent. Digits are read as an integer and divided once, which rounds
 * exactly as `Number("…")` does, so the value can serve as a key.
 */
function readNumber(field: Buffer, frame: Buffer, start: number, end: number): number {
  const at = frame.indexOf(field, start);
  if (at < 0 || at >= end) return Number.NaN;
  let digits = 0;
  let scale = 1;
  let fraction = false;
  for (let i = at + field.length; i < end; i++) {
    const c = frame[i];
    if (c === 0x2e) fraction = true;
    else if (c >= 0x30 && c <= 0x39) {
      digits = digits * 10 + (c - 0x30);
      if (fraction) scale *= 10;
    } else break;
  }
  return digits / scale;
}

function startsWith(frame: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return end - start > prefix.length && frame.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;
}

/** What a consumer that takes part in recovery does beyond the plain contract. */
export interface ConsumerOptions {
  /** Sent as the `last_seq` header: the consumer asks for what it missed after this seq. */
  readonly lastSeq?: number;
  /** Reads the seq of every entity frame and keeps the welcome frame (decoded), for checking what arrives. */
  readonly trackSeq?: boolean;
}

/** The welcome frame's fields that recovery is judged by. */
export interface Welcome {
  readonly last_seq?: number;
  readonly epoch?: string;
  readonly recovered?: boolean;
  readonly missed?: number;
  readonly reason?: string;
}

/**
 * A WebSocket consumer written straight onto a TCP socket: it frames and
 * counts without allocating per message, so that one load process can keep
 * thousands of them fed and the load generator is not what a run measures.
 * It speaks just enough of RFC 6455 (masked client frames, ping/pong, close)
 * and of engine.io/Socket.IO v4 (open, namespace connect, ping, events).
 */
export class RawConsumer {
  readonly socket: Socket;
  readonly startedAt = performance.now();
  welcomedAt = Number.NaN;
  status = 0;
  entities = 0;
  open = false;
  /** The code of the socket's error, if it had one (ECONNRESET, ...). */
  error: string | undefined;
  /** The welcome frame, decoded, when the consumer tracks seqs. */
  welcome: Welcome | undefined;
  private closedByUs = false;
  private handshake: Buffer | null = Buffer.alloc(0);
  private carry: Buffer | null = null;

  constructor(
    readonly endpoint: Endpoint,
    readonly credentials: Credentials,
    private readonly events: ConsumerEvents,
    path: string,
    localAddress: string,
    private readonly options: ConsumerOptions = {},
  ) {
    this.socket = connect({ host: endpoint.host, port: endpoint.port, localAddress, noDelay: true });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error.code ?? error.message;
    });
    this.socket.on('close', () => {
      this.open = false;
      if (this.closedByUs) return;
      if (Number.isNaN(this.welcomedAt)) this.events.refused(this, this.status);
      else this.events.lost(this);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const target = endpoint.dialect === 'socketio' ? '/socket.io/?EIO=4&transport=websocket' : path;
    this.socket.write(
      `GET ${target} HTTP/1.1\r\nHost: ${endpoint.host}:${endpoint.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `client_id: ${credentials.clientId}\r\nAuthorization: Bearer ${credentials.token}\r\n` +
        (options.lastSeq === undefined ? '' : `last_seq: ${options.lastSeq}\r\n`) +
        '\r\n',
    );
  }

  close(): void {
    this.closedByUs = true;
    this.open = false;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.handshake !== null) {
      const head = this.handshake.length === 0 ? chunk : Buffer.concat([this.handshake, chunk]);
      const end = head.indexOf(CRLF2);
      if (end < 0) {
        this.handshake = head;
        return;
      }
      this.handshake = null;
      this.status = Number(head.toString('latin1', 9, 12));
      if (this.status !== 101) {
        this.socket.destroy();
        return;
      }
      this.open = true;
      if (head.length > end + 4) this.frames(head.subarray(end + 4));
      return;
    }
    this.frames(chunk);
  }

  private frames(chunk: Buffer): void {
    let buffer = chunk;
    if (this.carry !== null) {
      buffer = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let offset = 0;
    const length = buffer.length;
    while (offset + 2 <= length) {
      const opcode = buffer[offset] & 0x0f;
      let size = buffer[offset + 1] & 0x7f;
      let header = 2;
      if (size === 126) {
        if (offset + 4 > length) break;
        size = buffer.readUInt16BE(offset + 2);
        header = 4;
      } else if (size === 127) {
        if (offset + 10 > length) break;
        size = Number(buffer.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (offset + header + size > length) break;
      const start = offset + header;
      const end = start + size;
      offset = end;
      if (opcode === OP_TEXT || opcode === OP_CONTINUATION) this.text(buffer, start, end);
      else if (opcode === OP_PING) this.send(0xa, buffer.subarray(start, end));
      else if (opcode === OP_CLOSE) {
        this.socket.destroy();
        return;
      }
    }
    if (offset < length) this.carry = Buffer.from(buffer.subarray(offset));
  }

  private text(frame: Buffer, start: number, end: number): void {
    if (this.endpoint.dialect === 'plain') {
      if (!startsWith(frame, start, end, PLAIN_PREFIX)) return;
      const kind = frame[start + PLAIN_PREFIX.length];
      if (kind === 0x65 /* e */) this.onEntity(frame, start, end);
      else if (kind === 0x77 /* w */) this.onWelcome(frame, start, end);
      return;
    }
    // engine.io: 0 open, 2 ping, 4 message; Socket.IO inside: 0 connect, 2 event
    if (startsWith(frame, start, end, SIO_EVENT_PREFIX)) {
      const kind = frame[start + SIO_EVENT_PREFIX.length];
      if (kind === 0x65 /* e */) this.onEntity(frame, start, end);
      else if (kind === 0x77 /* w */) this.onWelcome(frame, start, end);
    } else if (end - start === 1 && frame[start] === 0x32 /* 2: ping */) {
      this.send(OP_TEXT, Buffer.from('3'));
    } else if (frame[start] === 0x30 /* 0: open */) {
      this.send(OP_TEXT, Buffer.from('40'));
    }
  }

  private onWelcome(frame: Buffer, start: number, end: number): void {
    if (!Number.isNaN(this.welcomedAt)) return;
    this.welcomedAt = performance.now();
    if (this.options.trackSeq && this.endpoint.dialect === 'plain') this.welcome = JSON.parse(frame.toString('utf8', start, end)) as Welcome;
    this.events.welcomed(this);
  }

  private onEntity(frame: Buffer, start: number, end: number): void {
    this.entities++;
    const seq = this.options.trackSeq ? readNumber(SEQ_FIELD, frame, start, end) : Number.NaN;
    this.events.entity(this, readNumber(T_FIELD, frame, start, end), seq);
  }

  /** Clients must mask what they send; these frames are tiny and rare. */
  private send(opcode: number, payload: Buffer): void {
    if (!this.open || payload.length > 125) return;
    const frame = Buffer.allocUnsafe(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    randomBytes(4).copy(frame, 2);
    for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ frame[2 + (i & 3)];
    this.socket.write(frame);
  }
}
