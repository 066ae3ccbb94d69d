import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { DatabaseModule } from '@app/database';
import { DEFAULT_RECONNECT, type OutboundSocketSpec } from './outbound-socket.js';
import { OUTBOUND_SOCKET_ENTITIES, OUTBOUND_SOCKET_MIGRATIONS } from './outbound-sockets.module.js';
import { TypeOrmOutboundSocketStore } from './typeorm-outbound-socket.store.js';

// On in-memory PGlite, or on the Postgres named by DATABASE_URL: the same migration either way.
describe(TypeOrmOutboundSocketStore.name, () => {
  let module: TestingModule;
  let sut: TypeOrmOutboundSocketStore;
  let run = 0;
  const prefix = `spec-${process.pid}-${Date.now().toString(36)}-`;
  const spec = (): OutboundSocketSpec => ({
    socketId: `${prefix}${run++}`,
    url: 'wss://feed.example/prices?token=abc',
    headers: { Authorization: 'Bearer secret' },
    groups: ['ops'],
    relayToGroups: ['prices'],
    reconnect: DEFAULT_RECONNECT,
  });
  /** Moves the lease's expiry into the past, as if its holder had died. */
  const runOut = (socketId: string) =>
    module.get(DataSource).query(`UPDATE outbound_sockets SET lease_expires_at = now() - interval '1 second' WHERE socket_id = $1`, [socketId]);

  beforeAll(async () => {
    const databaseUrl = process.env.DATABASE_URL;
    module = await Test.createTestingModule({
      imports: [
        DatabaseModule.forRoot({
          url: databaseUrl ? new URL(databaseUrl) : undefined,
          pgliteDataDir: 'memory://',
          applicationName: 'outbound-store-spec',
          migrationsTableName: 'schema_migrations',
          entities: OUTBOUND_SOCKET_ENTITIES,
          migrations: OUTBOUND_SOCKET_MIGRATIONS,
        }),
      ],
      providers: [TypeOrmOutboundSocketStore],
    }).compile();
    sut = module.get(TypeOrmOutboundSocketStore);
  });
  afterAll(async () => {
    // on a shared Postgres, an app started later would take these over and dial their made-up feed
    await module.get(DataSource).query('DELETE FROM outbound_sockets WHERE socket_id LIKE $1', [`${prefix}%`]);
    await module.close();
  });

  it('stores a socket as given, held by its creator, and refuses its id a second time', async () => {
    const socket = spec();

    expect(await sut.insert(socket, 'instance-a', 30_000)).toBe(true);
    expect(await sut.insert({ ...socket, url: 'ws://other/' }, 'instance-b', 30_000)).toBe(false);

    expect(await sut.find(socket.socketId)).toEqual({ ...socket, owner: 'instance-a', state: 'connecting', createdAt: expect.any(Date) });
    expect((await sut.list()).map((stored) => stored.socketId)).toContain(socket.socketId);
  });

  it('lets its holder renew it and keeps it from the others until its lease lapses', async () => {
    const socket = spec();
    await sut.insert(socket, 'instance-a', 30_000);

    expect(await sut.renew('instance-a', 30_000)).toContain(socket.socketId);
    expect((await sut.claim('instance-b', 30_000, 1_000)).map((stored) => stored.socketId)).not.toContain(socket.socketId);
    expect(await sut.holds(socket.socketId, 'instance-a')).toBe(true);

    await runOut(socket.socketId);
    expect((await sut.find(socket.socketId))?.owner).toBeNull();
    expect((await sut.claim('instance-b', 30_000, 1_000)).map((stored) => stored.socketId)).toContain(socket.socketId);
    expect(await sut.renew('instance-a', 30_000)).not.toContain(socket.socketId);
    expect(await sut.holds(socket.socketId, 'instance-a')).toBe(false);
    expect((await sut.find(socket.socketId))?.owner).toBe('instance-b');
  });

  it("hands an owner's sockets to the next instance at once when it releases them, and no one else's", async () => {
    const [mine, theirs] = [spec(), spec()];
    await sut.insert(mine, 'instance-a', 30_000);
    await sut.insert(theirs, 'instance-c', 30_000);

    await sut.release('instance-a');

    const claimed = (await sut.claim('instance-b', 30_000, 1_000)).map((stored) => stored.socketId);
    expect(claimed).toContain(mine.socketId);
    expect(claimed).not.toContain(theirs.socketId);
  });

  it("records its holder's state, and only its holder's", async () => {
    const socket = spec();
    await sut.insert(socket, 'instance-a', 30_000);

    await sut.setState(socket.socketId, 'instance-a', 'open');
    await sut.setState(socket.socketId, 'instance-b', 'failed');

    expect((await sut.find(socket.socketId))?.state).toBe('open');
  });

  it('deletes a socket once', async () => {
    const socket = spec();
    await sut.insert(socket, 'instance-a', 30_000);

    expect(await sut.remove(socket.socketId)).toBe(true);
    expect(await sut.remove(socket.socketId)).toBe(false);
    expect(await sut.find(socket.socketId)).toBeNull();
    expect(await sut.holds(socket.socketId, 'instance-a')).toBe(false);
  });
});
