import type { Server, Socket } from 'node:net';
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock, normalizeAddress, type TimerHandle } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { HandshakeRefusals } from './handshake-refusals.js';

/** The most addresses shed at once; a flood from more addresses than this is refused the slower way. */
const MAX_SHED_ADDRESSES = 100_000;
/** How long a shed connection waits for its answer at least: the `Retry-After` it is given. */
const HOLD_MS = 1_000;
/**
 * Up to this much longer, at random: connections shed together would
 * otherwise be answered together, and an attacker that reconnects at once
 * would come back as one burst every second.
 */
const HOLD_JITTER_MS = 500;
/** How often held connections are looked at. */
const RELEASE_EVERY_MS = 50;
/** With the table of shed addresses full, it is swept for expired ones at most this often. */
const SWEEP_EVERY_MS = 1_000;
/** The most shed connections waiting at once; beyond this they are answered at once. */
const MAX_HELD = 1_024;

interface Held {
  readonly socket: Socket;
  /** A TLS port's connection is closed, not answered: no HTTP can be spoken before its TLS handshake. */
  readonly tls: boolean;
  readonly dueAt: number;
}

function destroySilently(this: Socket): void {
  this.destroy();
}

/**
 * Sheds the connections of an address that has used up its handshake
 * allowance, at accept, until the allowance refills: the connection is
 * answered `429` without a byte of its request being read, so a flood from
 * one address costs the gateway an accept and a write per connection instead
 * of parsing a request and running the handshake guard. On a TLS port the
 * connection is closed before the TLS handshake, which is where most of the
 * cost would be.
 *
 * The answer is held back for the second its `Retry-After` names (and up to
 * half a second more), up to 1,024 connections at a time: an attacker that opens a new connection as
 * soon as the last one is answered is slowed to that many a second, where an
 * immediate answer would invite the next attempt at once.
 *
 * Only addresses that are the TCP peer are shed (behind a trusted proxy the
 * peer is the proxy, and the handshake limit keys on the forwarded address),
 * never a trusted proxy, which carries everybody's requests, and never an
 * address allowed to publish, whose `POST /entity` must get through.
 */
@Injectable()
export class ConnectionShedding implements BeforeApplicationShutdown {
  private readonly until = new Map<string, number>();
  private readonly answer: Buffer;
  private held: Held[] = [];
  private releaseTimer?: TimerHandle;
  private lastSweep = -Infinity;

  constructor(
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    private readonly refusals: HandshakeRefusals,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    const body = JSON.stringify({ error: 'too_many_requests', message: 'too many handshakes from this address' });
    this.answer = Buffer.from(
      `HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Retry-After: ${HOLD_MS / 1_000}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      'latin1',
    );
  }

  /** New connections from `address` are shed for the next `forMs` milliseconds. */
  shed(address: string, forMs: number): void {
    if (forMs <= 0 || this.config.entityAllowedCidrs.contains(address) || this.config.trustProxy.contains(address)) return;
    if (!this.until.has(address) && this.until.size >= MAX_SHED_ADDRESSES && !this.sweep()) return;
    this.until.set(address, this.clock.now() + forMs);
  }

  /**
   * Puts the shedding in front of the server's own connection handling; `tls`
   * says that the server speaks TLS on accepted connections.
   */
  install(server: Server, tls: boolean): void {
    const accept = server.listeners('connection') as Array<(this: Server, socket: Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (this.until.size > 0 && this.tryShed(socket, tls)) return;
      for (const listener of accept) listener.call(server, socket);
    });
  }

  private tryShed(socket: Socket, tls: boolean): boolean {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const deadline = this.until.get(address);
    if (deadline === undefined) return false;
    if (this.clock.now() >= deadline) {
      this.until.delete(address);
      return false;
    }
    socket.on('error', destroySilently);
    socket.pause();
    const held = { socket, tls, dueAt: this.clock.now() + HOLD_MS + Math.random() * HOLD_JITTER_MS };
    if (this.held.length < MAX_HELD) {
      this.held.push(held);
      this.releaseTimer ??= this.clock.setTimer(() => this.releaseDue(), RELEASE_EVERY_MS);
    } else {
      this.refuse(held);
    }
    this.refusals.shed(address);
    return true;
  }

  /** Answers the held connections whose time has come. */
  private releaseDue(): void {
    const now = this.clock.now();
    const waiting: Held[] = [];
    for (const held of this.held) {
      if (held.dueAt <= now) this.refuse(held);
      else waiting.push(held);
    }
    this.held = waiting;
    this.releaseTimer = waiting.length > 0 ? this.clock.setTimer(() => this.releaseDue(), RELEASE_EVERY_MS) : undefined;
  }

  private refuse({ socket, tls }: Held): void {
    if (socket.destroyed) return;
    if (tls || !socket.writable) {
      socket.destroy();
      return;
    }
    // what the peer sent is read and dropped, so that closing does not reset the answer away
    socket.resume();
    socket.once('finish', destroySilently);
    socket.end(this.answer);
  }

  /** At shutdown, held connections are answered at once rather than keeping the server open. */
  beforeApplicationShutdown(): void {
    if (this.releaseTimer) this.clock.clearTimer(this.releaseTimer);
    this.releaseTimer = undefined;
    for (const held of this.held) this.refuse(held);
    this.held = [];
  }

  /** Forgets the addresses whose time is up, at most once a second; true if any room was made. */
  private sweep(): boolean {
    const now = this.clock.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return false;
    this.lastSweep = now;
    const before = this.until.size;
    for (const [address, deadline] of this.until) if (now >= deadline) this.until.delete(address);
    return this.until.size < before;
  }
}
