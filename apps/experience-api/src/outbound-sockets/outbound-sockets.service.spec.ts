import { EventEmitter2 } from '@nestjs/event-emitter';
import type { ModuleRef } from '@nestjs/core';
import type { ConfigType } from '@nestjs/config';
import { Registry } from 'prom-client';
import type { AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import { SocketRegistry, type SocketState } from '@app/socket-registry';
import type { experienceConfig } from '../config/experience.config.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import { DEFAULT_RECONNECT, type OutboundSocketSpec, type StoredOutboundSocket } from './outbound-socket.js';
import { OutboundSocketInUseError } from './outbound-socket.errors.js';
import { OutboundSocketStore } from './outbound-socket.store.js';
import { OutboundSockets } from './outbound-sockets.service.js';

interface Row extends OutboundSocketSpec {
  owner: string | null;
  leaseUntil: number;
  state: SocketState;
  createdAt: Date;
}

/** The table in memory, leases on the manual clock; `failing` makes every statement fail, as an unreachable database does. */
class MemoryStore extends OutboundSocketStore {
  readonly rows = new Map<string, Row>();
  failing = false;

  constructor(private readonly clock: ManualClock) {
    super();
  }

  private check(): void {
    if (this.failing) throw new Error('database unavailable');
  }

  private stored(row: Row): StoredOutboundSocket {
    return { ...row, owner: row.leaseUntil > this.clock.now() ? row.owner : null };
  }

  async insert(spec: OutboundSocketSpec, owner: string, leaseMs: number): Promise<boolean> {
    this.check();
    if (this.rows.has(spec.socketId)) return false;
    this.rows.set(spec.socketId, { ...spec, owner, leaseUntil: this.clock.now() + leaseMs, state: 'connecting', createdAt: new Date(this.clock.now()) });
    return true;
  }
  async count(): Promise<number> {
    this.check();
    return this.rows.size;
  }
  async list(): Promise<StoredOutboundSocket[]> {
    this.check();
    return [...this.rows.values()].map((row) => this.stored(row));
  }
  async find(socketId: string): Promise<StoredOutboundSocket | null> {
    this.check();
    const row = this.rows.get(socketId);
    return row ? this.stored(row) : null;
  }
  async remove(socketId: string): Promise<boolean> {
    this.check();
    return this.rows.delete(socketId);
  }
  async holds(socketId: string, owner: string): Promise<boolean> {
    this.check();
    return this.rows.get(socketId)?.owner === owner;
  }
  async renew(owner: string, leaseMs: number): Promise<Set<string>> {
    this.check();
    const held = [...this.rows.values()].filter((row) => row.owner === owner);
    for (const row of held) row.leaseUntil = this.clock.now() + leaseMs;
    return new Set(held.map((row) => row.socketId));
  }
  async claim(owner: string, leaseMs: number, limit: number): Promise<StoredOutboundSocket[]> {
    this.check();
    const free = [...this.rows.values()].filter((row) => row.owner === null || row.leaseUntil <= this.clock.now()).slice(0, limit);
    for (const row of free) Object.assign(row, { owner, leaseUntil: this.clock.now() + leaseMs, state: 'connecting' });
    return free.map((row) => this.stored(row));
  }
  async setState(socketId: string, owner: string, state: SocketState): Promise<void> {
    this.check();
    const row = this.rows.get(socketId);
    if (row?.owner === owner) row.state = state;
  }
  async release(owner: string): Promise<void> {
    this.check();
    for (const row of this.rows.values()) if (row.owner === owner) Object.assign(row, { owner: null, leaseUntil: 0 });
  }
}

const LEASE_MS = 3_000;
/** Nothing listens there: connections fail and wait to reconnect, on the manual clock. */
const NOWHERE = 'ws://127.0.0.1:9/feed';

describe(OutboundSockets.name, () => {
  let clock: ManualClock;
  let store: MemoryStore;
  let registry: SocketRegistry;
  const instances: OutboundSockets[] = [];

  function instance(instanceId: string): OutboundSockets {
    const config = { instanceId, socketLeaseMs: LEASE_MS, pingIntervalMs: 30_000 } as ConfigType<typeof experienceConfig>;
    const sut = new OutboundSockets(
      store,
      registry,
      clock,
      config,
      {} as ModuleRef,
      { raise: () => undefined } as unknown as AlertService,
      { registry: new Registry() } as GatewayMetrics,
      new SocketEvents(new EventEmitter2()),
    );
    instances.push(sut);
    return sut;
  }

  const request = (socketId: string) => ({ socketId, url: NOWHERE, headers: {}, groups: [], relayToGroups: null, reconnect: DEFAULT_RECONNECT });

  beforeEach(() => {
    clock = new ManualClock(0);
    store = new MemoryStore(clock);
    registry = new SocketRegistry({ maxBufferedBytes: 1_048_576 });
  });
  afterEach(async () => {
    for (const sut of instances.splice(0)) await sut.beforeApplicationShutdown();
  });

  it('stores a socket held by its creator and registers it at once; an id in use is refused', async () => {
    const sut = instance('a');

    expect(await sut.create(request('feed'))).toEqual({ socketId: 'feed', state: 'connecting' });

    expect(store.rows.get('feed')?.owner).toBe('a');
    expect(registry.get('feed')?.type).toBe('outbound');
    await expect(sut.create(request('feed'))).rejects.toThrow(OutboundSocketInUseError);
  });

  it('opens at start the sockets nobody holds, and stops those deleted elsewhere at its next renewal', async () => {
    await store.insert({ ...request('stored'), reconnect: DEFAULT_RECONNECT }, 'gone', LEASE_MS);
    await store.release('gone');
    const sut = instance('a');

    sut.onApplicationBootstrap();
    await clock.advance(0);
    expect(registry.get('stored')).toBeDefined();
    expect(store.rows.get('stored')?.owner).toBe('a');

    await store.remove('stored');
    await clock.advance(LEASE_MS / 3);
    expect(registry.get('stored')).toBeUndefined();
  });

  it('closes its sockets once it could not renew them for a lease, and opens them again when it can', async () => {
    const sut = instance('a');
    sut.onApplicationBootstrap();
    await sut.create(request('feed'));
    store.failing = true;

    await clock.advance(LEASE_MS);
    expect(registry.get('feed')).toBeDefined();
    await clock.advance(LEASE_MS / 3);
    expect(registry.get('feed')).toBeUndefined();

    store.failing = false;
    await clock.advance(LEASE_MS / 3);
    expect(registry.get('feed')).toBeDefined();
    expect(store.rows.get('feed')?.owner).toBe('a');
  });

  it('leaves a socket held by another instance alone, and takes it over once that lease lapses', async () => {
    const a = instance('a');
    await a.create(request('feed'));
    const b = instance('b');
    b.onApplicationBootstrap();
    await clock.advance(0);
    expect(store.rows.get('feed')?.owner).toBe('a');

    // A stops renewing (it died without a word): its lease runs out
    await clock.advance(LEASE_MS);

    expect(store.rows.get('feed')?.owner).toBe('b');
  });
});
