import { randomUUID } from 'node:crypto';
import type { ConfigType } from '@nestjs/config';
import { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import { ManualClock } from '@app/platform';
import { RegisteredSocket, SocketRegistry } from '@app/socket-registry';
import { localRedisUrl, redisAnswers, serviceAvailable } from '../../../../test/support/processes/services.js';
import { eventually } from '../../../../test/support/time/eventually.js';
import type { experienceConfig } from '../config/experience.config.js';
import { ClusterUnavailableError } from './cluster-unavailable.error.js';
import { RedisConnection } from './redis-connection.js';
import { RedisDeliveryBus } from './redis-delivery-bus.js';

type Config = ConfigType<typeof experienceConfig>;

/** A socket that only records how it was closed. */
type FakeSocket = WebSocket & { closedWith?: [number, string] };

function fakeSocket(): FakeSocket {
  const socket: { readyState: number; OPEN: number; bufferedAmount: number; closedWith?: [number, string]; close(code: number, reason: string): void } = {
    readyState: 1,
    OPEN: 1,
    bufferedAmount: 0,
    close(code, reason) {
      socket.closedWith = [code, reason];
    },
  };
  return socket as unknown as FakeSocket;
}

/** One instance of a cluster: its registry, its connection to Redis, its bus. */
class Instance {
  readonly registry = new SocketRegistry({ maxBufferedBytes: 65_536 });
  readonly redis: RedisConnection;
  readonly bus: RedisDeliveryBus;

  constructor(config: Config, clock: ManualClock) {
    this.redis = new RedisConnection(config);
    this.bus = new RedisDeliveryBus(this.registry, this.redis, config, clock);
    this.bus.onApplicationBootstrap();
  }

  /** Registers a socket of `clientId` here. */
  open(clientId: string): FakeSocket {
    const socket = fakeSocket();
    this.registry.add(new RegisteredSocket(randomUUID(), 'inbound', '/ws/publish', clientId, '127.0.0.1', socket));
    return socket;
  }

  async stop(): Promise<void> {
    await this.redis.onApplicationShutdown();
  }
}

(serviceAvailable('Redis', await redisAnswers(localRedisUrl)) ? describe : describe.skip)(`${RedisDeliveryBus.name}, on Redis`, () => {
  const OP_TIMEOUT_MS = 1_000;
  let prefix: string;
  let clock: ManualClock;
  let admin: Redis;
  const instances: Instance[] = [];

  const configOf = (instanceId: string, redisUrl = localRedisUrl): Config =>
    ({
      instanceId,
      cluster: { redisUrl: new URL(redisUrl), keyPrefix: prefix, streamLength: 1_000, opTimeoutMs: OP_TIMEOUT_MS },
    }) as unknown as Config;

  /** An instance, once Redis counts it among the subscribers of the operations channel. */
  async function instance(instanceId: string): Promise<Instance> {
    const before = await subscribers();
    const started = new Instance(configOf(instanceId), clock);
    instances.push(started);
    await eventually(async () => (await subscribers()) > before && started.redis.isReachable, 5_000, 20, `${instanceId} subscribed`);
    return started;
  }

  async function subscribers(): Promise<number> {
    const [, count] = (await admin.pubsub('NUMSUB', `${prefix}socket-operations`)) as [string, number];
    return Number(count);
  }

  beforeAll(() => {
    admin = new Redis(localRedisUrl);
  });
  afterAll(async () => {
    await admin.quit();
  });
  beforeEach(() => {
    prefix = `spec-${randomUUID()}:`;
    clock = new ManualClock();
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((started) => started.stop()));
  });

  it('closes the selected sockets on every instance and answers how many, once every instance answered', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    const [onA, onB, other] = [a.open('acme'), b.open('acme'), b.open('other')];

    const closed = await a.bus.close({ clientId: 'acme' }, 4000, 'bye');

    expect(closed).toBe(2);
    expect([onA.closedWith, onB.closedWith, other.closedWith]).toEqual([[4000, 'bye'], [4000, 'bye'], undefined]);
  });

  it('does not wait past the operation timeout for an instance that never answers, and counts what the others did', async () => {
    const a = await instance('a');
    a.open('acme');
    // subscribed like an instance, and silent like a dead one
    const silent = new Redis(localRedisUrl);
    await silent.subscribe(`${prefix}socket-operations`);
    try {
      let answer: number | undefined;
      const closing = a.bus.close({ clientId: 'acme' }, 4000, 'bye').then((closed) => (answer = closed));
      await eventually(() => clock.pending > 0, 5_000, 10, 'the operation waiting for answers');
      expect(answer).toBeUndefined();

      await clock.advance(OP_TIMEOUT_MS);

      expect(await closing).toBe(1);
    } finally {
      await silent.quit();
    }
  });

  it('refuses an operation while Redis cannot be reached, before doing anything', async () => {
    const unreachable = new Instance(configOf('alone', 'redis://127.0.0.1:1'), clock);
    instances.push(unreachable);
    const socket = unreachable.open('acme');

    await expect(unreachable.bus.close({ clientId: 'acme' }, 4000, 'bye')).rejects.toBeInstanceOf(ClusterUnavailableError);

    expect(socket.closedWith).toBeUndefined();
  });

  it('finds a socket by id on whichever instance holds it, and changes its groups there', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    b.open('acme');
    const [held] = await a.bus.list({ clientId: 'acme' }, { limit: 10 });

    expect(await a.bus.changeGroups(held.socketId, 'join', ['eu'])).toEqual(['eu']);
    expect(await a.bus.changeGroups('no-such-socket', 'join', ['eu'])).toBeUndefined();
    expect(b.registry.get(held.socketId)?.groups).toEqual(new Set(['eu']));
  });

  it('lists the sockets of every instance as one page, in socket id order', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    for (let i = 0; i < 3; i++) a.open(`client-${i}`);
    for (let i = 3; i < 6; i++) b.open(`client-${i}`);
    const all = [...a.registry.list({}, undefined, 10), ...b.registry.list({}, undefined, 10)].map((socket) => socket.socketId).sort();

    const first = await a.bus.list({}, { limit: 4 });
    const rest = await b.bus.list({}, { after: first[first.length - 1].socketId, limit: 4 });

    expect([...first, ...rest].map((socket) => socket.socketId)).toEqual(all);
  });
});
