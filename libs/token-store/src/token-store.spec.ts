import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { DatabaseModule } from '@app/database';
import { digestsEqual, sha256 } from '@app/platform';
import { ClientService } from './clients/client.service.js';
import { TOKEN_STORE_ENTITIES, TOKEN_STORE_MIGRATIONS } from './index.js';
import { LiveSocketService } from './live-sockets/live-socket.service.js';
import { TokenStoreModule } from './token-store.module.js';
import {
  ClientAlreadyExistsError,
  ClientNotFoundError,
  InstanceStoppingError,
  InvalidClientCredentialsError,
  TokenRejectedError,
} from './token-store.errors.js';
import { ConsumerTokenService } from './tokens/consumer-token.service.js';

// Runs on in-memory PGlite, or on the Postgres named by DATABASE_URL: the same migrations either way.
async function openTokenStore(options: { tokenIdleTtlMs?: number; instanceId?: string } = {}): Promise<TestingModule> {
  const databaseUrl = process.env.DATABASE_URL;
  return Test.createTestingModule({
    imports: [
      DatabaseModule.forRoot({
        url: databaseUrl ? new URL(databaseUrl) : undefined,
        pgliteDataDir: 'memory://',
        applicationName: 'token-store-spec',
        migrationsTableName: 'schema_migrations',
        entities: TOKEN_STORE_ENTITIES,
        migrations: TOKEN_STORE_MIGRATIONS,
      }),
      TokenStoreModule.forRoot({
        tokenIdleTtlMs: options.tokenIdleTtlMs ?? 60_000,
        socketLeaseMs: 10_000,
        instanceId: options.instanceId ?? `spec-${process.pid}-${Math.random().toString(36).slice(2)}`,
      }),
    ],
  }).compile();
}

let next = 0;
const uniqueId = () => `ts-${process.pid}-${Date.now().toString(36)}-${next++}`;

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof TokenRejectedError ? error.reason : error),
  );

describe('token store', () => {
  let module: TestingModule;
  let clients: ClientService;
  let tokens: ConsumerTokenService;
  let liveSockets: LiveSocketService;
  let dataSource: DataSource;

  beforeAll(async () => {
    module = await openTokenStore();
    await module.init();
    clients = module.get(ClientService);
    tokens = module.get(ConsumerTokenService);
    liveSockets = module.get(LiveSocketService);
    dataSource = module.get(DataSource);
  });
  afterAll(async () => {
    await module.close();
  });

  describe(ClientService.name, () => {
    it('creates a client whose secret is kept only as a scrypt hash', async () => {
      const sut = clients;
      const clientId = uniqueId();
      const created = await sut.create({ clientId, clientSecret: 'the-secret-value-1', grants: ['a', 'b/*'] });
      expect(created).toEqual({ clientId, clientSecret: 'the-secret-value-1' });
      const [row] = await dataSource.query('SELECT secret_hash, grants, default_groups FROM clients WHERE client_id = $1', [clientId]);
      expect(row.secret_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(row.secret_hash).not.toContain('the-secret-value-1');
      expect(row.grants).toEqual(['a', 'b/*']);
      expect(row.default_groups).toBeNull();
    });

    it('refuses an id that exists', async () => {
      const sut = clients;
      const clientId = uniqueId();
      await sut.create({ clientId });
      await expect(sut.create({ clientId })).rejects.toBeInstanceOf(ClientAlreadyExistsError);
    });

    it('gives the same error for a wrong secret and an unknown client', async () => {
      const sut = clients;
      const clientId = uniqueId();
      const { clientSecret } = await sut.create({ clientId });
      await expect(sut.verifyCredentials(clientId, clientSecret)).resolves.toMatchObject({ clientId });
      await expect(sut.verifyCredentials(clientId, `${clientSecret}x`)).rejects.toBeInstanceOf(InvalidClientCredentialsError);
      await expect(sut.verifyCredentials(`${clientId}-unknown`, clientSecret)).rejects.toBeInstanceOf(InvalidClientCredentialsError);
    });

    it('refuses to remove a client that does not exist', async () => {
      await expect(clients.remove(uniqueId())).rejects.toBeInstanceOf(ClientNotFoundError);
    });

    it('refuses an id no client can have without asking the database, which would fail on a NUL', async () => {
      await expect(clients.verifyCredentials('ab\u0000cd', 'any-secret-at-all')).rejects.toBeInstanceOf(InvalidClientCredentialsError);
    });

    it('lists clients a page at a time, in id order, without secrets', async () => {
      const prefix = uniqueId();
      for (const suffix of ['c', 'a', 'b']) await clients.create({ clientId: `${prefix}-${suffix}`, grants: [suffix] });

      const first = await clients.list(`${prefix}-`, 2);
      const second = await clients.list(first.next!, 2);

      expect(first.clients.map((client) => client.clientId)).toEqual([`${prefix}-a`, `${prefix}-b`]);
      expect(second.clients[0]).toEqual({ clientId: `${prefix}-c`, grants: ['c'], defaultGroups: null, createdAt: expect.any(Date) });
      expect(JSON.stringify([first, second])).not.toContain('scrypt');
    });

    it('replaces grants and rotates secrets, and says when the client does not exist', async () => {
      const clientId = uniqueId();
      const { clientSecret } = await clients.create({ clientId, grants: ['a'] });

      await expect(clients.setGrants(clientId, ['b', 'c/*'])).resolves.toMatchObject({ clientId, grants: ['b', 'c/*'] });
      const rotated = await clients.rotateSecret(clientId);

      await expect(clients.verifyCredentials(clientId, clientSecret)).rejects.toBeInstanceOf(InvalidClientCredentialsError);
      await expect(clients.verifyCredentials(clientId, rotated.clientSecret)).resolves.toMatchObject({ grants: ['b', 'c/*'] });
      await expect(clients.setGrants(uniqueId(), [])).rejects.toBeInstanceOf(ClientNotFoundError);
      await expect(clients.rotateSecret(uniqueId())).rejects.toBeInstanceOf(ClientNotFoundError);
    });
  });

  describe(ConsumerTokenService.name, () => {
    const register = async (clientId: string, secret: string, groups?: string[]) => tokens.issue(await clients.verifyCredentials(clientId, secret), groups);

    it('issues a token stored only as its SHA-256 and accepts it in a handshake', async () => {
      const sut = tokens;
      const clientId = uniqueId();
      const { clientSecret } = await clients.create({ clientId, grants: ['eu'] });
      const issued = await register(clientId, clientSecret);

      expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const [row] = await dataSource.query(`SELECT encode(token_hash, 'hex') AS hash FROM consumer_tokens WHERE client_id = $1`, [clientId]);
      expect(row.hash).toHaveLength(64);
      expect(row.hash).not.toContain(Buffer.from(issued.token).toString('hex'));
      await expect(sut.authenticate(clientId, issued.token)).resolves.toMatchObject({ clientId, defaultGroups: ['eu'] });
    });

    it('rotates: registering again kills the earlier token', async () => {
      const sut = tokens;
      const clientId = uniqueId();
      const { clientSecret } = await clients.create({ clientId });
      const first = await register(clientId, clientSecret);
      const second = await register(clientId, clientSecret);

      expect(await rejection(sut.authenticate(clientId, first.token))).toBe('mismatch');
      await expect(sut.authenticate(clientId, second.token)).resolves.toMatchObject({ clientId });
    });

    it('replaces default groups when registration names them', async () => {
      const sut = tokens;
      const clientId = uniqueId();
      const { clientSecret } = await clients.create({ clientId, grants: ['old', 'new', 'other*'] });
      const issued = await register(clientId, clientSecret, ['new', 'other-1']);
      await expect(sut.authenticate(clientId, issued.token)).resolves.toMatchObject({ clientId, defaultGroups: ['new', 'other-1'] });
    });

    it('tells missing, malformed, unknown and foreign tokens apart for the logs', async () => {
      const sut = tokens;
      const [mine, theirs] = [uniqueId(), uniqueId()];
      const mySecret = (await clients.create({ clientId: mine })).clientSecret;
      const theirSecret = (await clients.create({ clientId: theirs })).clientSecret;
      await register(mine, mySecret);
      const theirToken = (await register(theirs, theirSecret)).token;

      expect(await rejection(sut.authenticate(undefined, theirToken))).toBe('missing');
      expect(await rejection(sut.authenticate(mine, undefined))).toBe('missing');
      expect(await rejection(sut.authenticate(mine, theirToken.slice(1)))).toBe('malformed');
      expect(await rejection(sut.authenticate('not valid!', theirToken))).toBe('malformed');
      expect(await rejection(sut.authenticate(uniqueId(), theirToken))).toBe('unknown');
      expect(await rejection(sut.authenticate(mine, theirToken))).toBe('mismatch');
    });

    it('kills a token when its client is removed', async () => {
      const clientId = uniqueId();
      const { clientSecret } = await clients.create({ clientId });
      const issued = await register(clientId, clientSecret);
      await clients.remove(clientId);
      expect(await rejection(tokens.authenticate(clientId, issued.token))).toBe('unknown');
    });
  });

  describe(LiveSocketService.name, () => {
    it('lets one socket claim a client, refuses a second, and frees it on release', async () => {
      const sut = liveSockets;
      const clientId = uniqueId();
      await clients.create({ clientId });

      expect(await sut.claim(clientId, 'socket-1')).toBe(true);
      expect(await sut.claim(clientId, 'socket-2')).toBe(false);
      await sut.release(clientId, 'socket-2');
      expect(await sut.claim(clientId, 'socket-3')).toBe(false);
      await sut.release(clientId, 'socket-1');
      expect(await sut.claim(clientId, 'socket-3')).toBe(true);
    });

    it('gives each of many simultaneous handshakes for one client its answer: exactly one wins', async () => {
      const clientIds = [uniqueId(), uniqueId(), uniqueId()];
      for (const clientId of clientIds) await clients.create({ clientId });

      const attempts = clientIds.flatMap((clientId) => [1, 2, 3, 4].map((n) => ({ clientId, socketId: `${clientId}-${n}` })));
      const won = await Promise.all(attempts.map(({ clientId, socketId }) => liveSockets.claim(clientId, socketId)));

      for (const clientId of clientIds) {
        const winners = attempts.filter((attempt, i) => won[i] && attempt.clientId === clientId);
        expect(winners).toHaveLength(1);
        const [row] = await dataSource.query('SELECT socket_id FROM live_sockets WHERE client_id = $1', [clientId]);
        expect(row.socket_id).toBe(winners[0].socketId);
      }
    });

    it('refuses the claim of a client deleted meanwhile without failing the others claimed with it', async () => {
      const present = uniqueId();
      await clients.create({ clientId: present });

      const [gone, kept] = await Promise.all([liveSockets.claim(uniqueId(), 'orphan'), liveSockets.claim(present, 'fine')]);

      expect(gone).toBe(false);
      expect(kept).toBe(true);
    });

    describe('checking the token in the claim (claimWithToken)', () => {
      const issued = async () => {
        const clientId = uniqueId();
        const { clientSecret } = await clients.create({ clientId, grants: ['news'] });
        const { token } = await tokens.issue(await clients.verifyCredentials(clientId, clientSecret));
        return { clientId, token };
      };
      const owner = async (clientId: string): Promise<string | undefined> => {
        const rows: Array<{ socket_id: string }> = await dataSource.query('SELECT socket_id FROM live_sockets WHERE client_id = $1', [clientId]);
        return rows[0]?.socket_id;
      };

      it('claims for the right token and hands back what is stored, for the token service to accept', async () => {
        const { clientId, token } = await issued();

        const result = await liveSockets.claimWithToken(clientId, 'with-token', sha256(token));

        expect(result.won).toBe(true);
        expect(result.credentials).toMatchObject({ expired: false, grants: ['news'], defaultGroups: null });
        expect(digestsEqual(result.credentials!.tokenHash, sha256(token))).toBe(true);
        expect(await owner(clientId)).toBe('with-token');
      });

      it('claims nothing for a wrong token, an expired one or an unknown client', async () => {
        const wrong = await issued();
        const expired = await issued();
        await dataSource.query(`UPDATE consumer_tokens SET last_seen_at = now() - interval '1 hour' WHERE client_id = $1`, [expired.clientId]);
        const unknown = uniqueId();

        const [mismatch, old, none] = await Promise.all([
          liveSockets.claimWithToken(wrong.clientId, 'wrong', sha256(`${wrong.token}x`)),
          liveSockets.claimWithToken(expired.clientId, 'expired', sha256(expired.token)),
          liveSockets.claimWithToken(unknown, 'unknown', sha256('whatever')),
        ]);

        expect(mismatch.won).toBe(false);
        expect(mismatch.credentials).toBeDefined();
        expect(old).toMatchObject({ won: false, credentials: { expired: true } });
        expect(none).toEqual({ won: false });
        for (const clientId of [wrong.clientId, expired.clientId, unknown]) expect(await owner(clientId)).toBeUndefined();
      });

      it('refuses the second of two connections, token right or not', async () => {
        const { clientId, token } = await issued();
        expect((await liveSockets.claimWithToken(clientId, 'first', sha256(token))).won).toBe(true);

        const [again, plain] = await Promise.all([liveSockets.claimWithToken(clientId, 'second', sha256(token)), liveSockets.claim(clientId, 'third')]);

        expect(again.won).toBe(false);
        expect(again.credentials).toBeDefined();
        expect(plain).toBe(false);
        expect(await owner(clientId)).toBe('first');
      });

      it('authenticates through it: the token service compares and refuses as with its own lookup', async () => {
        const { clientId, token } = await issued();
        const read = (socketId: string) => (id: string, tokenHash: Buffer) =>
          liveSockets.claimWithToken(id, socketId, tokenHash).then((result) => result.credentials);

        expect(await rejection(tokens.authenticate(clientId, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, read('bad')))).toBe('mismatch');
        expect(await owner(clientId)).toBeUndefined();
        await expect(tokens.authenticate(clientId, token, read('good'))).resolves.toMatchObject({ clientId, defaultGroups: ['news'] });
        expect(await owner(clientId)).toBe('good');
      });

      it('keeps nothing in the cache: a token replaced through another instance, unannounced here, is refused at once', async () => {
        const { clientId, token } = await issued();
        const read = (socketId: string) => (id: string, tokenHash: Buffer) =>
          liveSockets.claimWithToken(id, socketId, tokenHash).then((result) => result.credentials);
        await tokens.authenticate(clientId, token, read('first'));
        await liveSockets.release(clientId, 'first');

        await dataSource.query(`UPDATE consumer_tokens SET token_hash = $2 WHERE client_id = $1`, [clientId, sha256('replaced elsewhere')]);

        expect(await rejection(tokens.authenticate(clientId, token, read('second')))).toBe('mismatch');
        expect(await owner(clientId)).toBeUndefined();
      });
    });

    it('hands a client over once the holder lease has run out', async () => {
      const sut = liveSockets;
      const clientId = uniqueId();
      await clients.create({ clientId });
      await dataSource.query(`INSERT INTO live_sockets VALUES ($1, 'gone', 'dead-instance', now(), now() - interval '1 second')`, [clientId]);
      expect(await sut.claim(clientId, 'fresh')).toBe(true);
    });

    // closing a second module would close the embedded database the others share, so there is one, closed last
    describe('with a second instance on the same database', () => {
      let other: TestingModule;

      beforeAll(async () => {
        other = await openTokenStore({ instanceId: `second-${uniqueId()}` });
        await other.init();
      });
      afterAll(async () => {
        await other.close();
      });

      it('gives each client exactly one winner when two instances claim the same clients in opposite orders at once', async () => {
        const clientIds = Array.from({ length: 20 }, () => uniqueId());
        for (const clientId of clientIds) await clients.create({ clientId });
        const mine = clientIds.map((clientId) => liveSockets.claim(clientId, `${clientId}-here`));
        const theirs = [...clientIds].reverse().map((clientId) => other.get(LiveSocketService).claim(clientId, `${clientId}-there`));
        const [won, wonThere] = await Promise.all([Promise.all(mine), Promise.all(theirs)]);

        const rows: Array<{ client_id: string; socket_id: string }> = await dataSource.query(
          'SELECT client_id, socket_id FROM live_sockets WHERE client_id = ANY($1::varchar[])',
          [clientIds],
        );
        const holder = new Map(rows.map((row) => [row.client_id, row.socket_id]));
        clientIds.forEach((clientId, i) => {
          const here = won[i];
          const there = wonThere[clientIds.length - 1 - i];
          expect([here, there].filter(Boolean)).toHaveLength(1);
          expect(holder.get(clientId)).toBe(here ? `${clientId}-here` : `${clientId}-there`);
        });
      });

      it('releases all of its claims when the app stops', async () => {
        const clientId = uniqueId();
        await clients.create({ clientId });
        expect(await other.get(LiveSocketService).claim(clientId, 'held')).toBe(true);

        await other.get(LiveSocketService).beforeApplicationShutdown();

        expect(await liveSockets.claim(clientId, 'next')).toBe(true);
      });

      it('takes no claim once it has released them all, so none outlives it by a lease', async () => {
        const stopping = await openTokenStore({ instanceId: `stopping-${uniqueId()}` });
        await stopping.init();
        const clientId = uniqueId();
        await clients.create({ clientId });

        await stopping.get(LiveSocketService).releaseAll();

        await expect(stopping.get(LiveSocketService).claim(clientId, 'late')).rejects.toBeInstanceOf(InstanceStoppingError);
        expect(await liveSockets.claim(clientId, 'elsewhere')).toBe(true);
        await stopping.close();
      });
    });
  });
});

describe('token idle time', () => {
  let module: TestingModule;
  let clients: ClientService;
  let sut: ConsumerTokenService;
  // rows are back-dated rather than waited for: the idle clock runs on the database's time
  const backDate = (clientId: string, seconds: number) =>
    module.get(DataSource).query(`UPDATE consumer_tokens SET last_seen_at = last_seen_at - $2 * interval '1 second' WHERE client_id = $1`, [clientId, seconds]);

  beforeAll(async () => {
    module = await openTokenStore({ tokenIdleTtlMs: 60_000 });
    await module.init();
    clients = module.get(ClientService);
    sut = module.get(ConsumerTokenService);
  });
  afterAll(async () => {
    await module.close();
  });

  async function registered(): Promise<{ clientId: string; token: string }> {
    const clientId = uniqueId();
    const { clientSecret } = await clients.create({ clientId });
    return { clientId, token: (await sut.issue(await clients.verifyCredentials(clientId, clientSecret))).token };
  }

  it('refuses a token once its idle time has passed since registration', async () => {
    const { clientId, token } = await registered();

    await backDate(clientId, 61);

    expect(await rejection(sut.authenticate(clientId, token))).toBe('expired');
  });

  it('restarts the idle clock when the consumer connects or leaves', async () => {
    const { clientId, token } = await registered();
    await backDate(clientId, 50);

    await sut.touch(clientId);
    await backDate(clientId, 30);

    await expect(sut.authenticate(clientId, token)).resolves.toMatchObject({ clientId });
  });
});
