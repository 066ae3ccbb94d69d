import { ClientEntity } from '../clients/client.entity.js';
import { InProcessClientChanges } from '../clients/client-changes.js';
import { ClientRepository, type NewClient } from '../clients/client.repository.js';
import { ClientService } from '../clients/client.service.js';
import { SecretHasher } from '../clients/secret-hasher.js';
import { TokenRejectedError } from '../token-store.errors.js';
import { ConsumerTokenRepository, type HandshakeCredentials } from './consumer-token.repository.js';
import { ConsumerTokenService } from './consumer-token.service.js';

/** Clients and tokens in memory, with the database's cascade from a client to its token; it counts the reads and writes it serves. */
class InMemoryStore {
  readonly clients = new Map<string, ClientEntity>();
  readonly tokens = new Map<string, { hash: Buffer; lifetimeMs: number }>();
  readonly lookups: string[][] = [];
  readonly touches: string[][] = [];

  readonly clientRepository: ClientRepository = Object.assign(Object.create(ClientRepository.prototype) as ClientRepository, {
    insert: async (client: NewClient) => {
      if (this.clients.has(client.clientId)) return false;
      this.clients.set(
        client.clientId,
        Object.assign(new ClientEntity(), { ...client, grants: [...client.grants], defaultGroups: null, createdAt: new Date() }),
      );
      return true;
    },
    findByClientId: async (clientId: string) => this.clients.get(clientId) ?? null,
    deleteByClientId: async (clientId: string) => this.tokens.delete(clientId) && this.clients.delete(clientId),
    listAfter: async () => [...this.clients.values()],
    setDefaultGroups: async (clientId: string, groups: readonly string[]) => {
      this.clients.get(clientId)!.defaultGroups = [...groups];
    },
    setGrants: async (clientId: string, grants: readonly string[]) => {
      const client = this.clients.get(clientId);
      if (client) client.grants = [...grants];
      return client ?? null;
    },
    setSecretHash: async (clientId: string, secretHash: string) => {
      const client = this.clients.get(clientId);
      if (client) client.secretHash = secretHash;
      return client !== undefined;
    },
  });

  readonly tokenRepository: ConsumerTokenRepository = Object.assign(Object.create(ConsumerTokenRepository.prototype) as ConsumerTokenRepository, {
    replace: async (clientId: string, hash: Buffer, idleTtlMs: number) => {
      this.tokens.set(clientId, { hash, lifetimeMs: idleTtlMs });
      return new Date(Date.now() + idleTtlMs);
    },
    findHandshakeCredentials: async (clientIds: readonly string[]) => {
      this.lookups.push([...clientIds]);
      const found = new Map<string, HandshakeCredentials>();
      for (const clientId of clientIds) {
        const token = this.tokens.get(clientId);
        if (!token) continue;
        found.set(clientId, {
          tokenHash: token.hash,
          expired: token.lifetimeMs <= 0,
          remainingMs: token.lifetimeMs,
          grants: this.clients.get(clientId)!.grants,
          defaultGroups: this.clients.get(clientId)!.defaultGroups,
        });
      }
      return found;
    },
    touch: async (clientIds: readonly string[]) => {
      this.touches.push([...clientIds]);
    },
  });
}

const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof TokenRejectedError ? error.reason : error),
  );

/** Client changes as a cluster delivers them: some are announced by other instances, and some may have been missed. */
class HeardChanges extends InProcessClientChanges {
  hear(clientId: string | null): void {
    this.tell(clientId);
  }
}

describe(ConsumerTokenService.name, () => {
  let store: InMemoryStore;
  let changes: HeardChanges;
  let clients: ClientService;
  let sut: ConsumerTokenService;

  beforeEach(() => {
    store = new InMemoryStore();
    changes = new HeardChanges();
    clients = new ClientService(store.clientRepository, new SecretHasher(), changes);
    sut = new ConsumerTokenService(clients, store.tokenRepository, { tokenIdleTtlMs: 60_000, socketLeaseMs: 10_000, instanceId: 'spec' }, changes);
  });

  async function register(clientId: string, secret: string, groups?: string[]) {
    return sut.issue(await clients.verifyCredentials(clientId, secret), groups);
  }

  async function registered(clientId: string, grants?: string[]): Promise<{ secret: string; token: string }> {
    const { clientSecret } = await clients.create({ clientId, grants });
    return { secret: clientSecret, token: (await register(clientId, clientSecret)).token };
  }

  it('admits a consumer reconnecting soon after without reading the database again', async () => {
    const { token } = await registered('acme', ['eu']);

    await expect(sut.authenticate('acme', token)).resolves.toMatchObject({ clientId: 'acme', defaultGroups: ['eu'] });
    await expect(sut.authenticate('acme', token)).resolves.toMatchObject({ clientId: 'acme', defaultGroups: ['eu'] });

    expect(store.lookups).toEqual([['acme']]);
  });

  it('refuses a rotated token at once, though it had been accepted just before', async () => {
    const { secret, token: first } = await registered('acme');
    await sut.authenticate('acme', first);

    const second = (await register('acme', secret)).token;

    expect(await reasonOf(sut.authenticate('acme', first))).toBe('mismatch');
    expect(await reasonOf(sut.authenticate('acme', second))).toBe('accepted');
  });

  it('refuses the token of a deleted client at once, though it had been accepted just before', async () => {
    const { token } = await registered('acme');
    await sut.authenticate('acme', token);

    await clients.remove('acme');

    expect(await reasonOf(sut.authenticate('acme', token))).toBe('unknown');
  });

  it('reads the token again once a change to its client is announced by another instance', async () => {
    const { token } = await registered('acme');
    await sut.authenticate('acme', token);
    // the rotation itself happened elsewhere: here, only its announcement arrives
    await store.tokenRepository.replace('acme', Buffer.alloc(32), 60_000);

    changes.hear('acme');

    expect(await reasonOf(sut.authenticate('acme', token))).toBe('mismatch');
  });

  it('reads every token again when announcements may have been missed', async () => {
    const a = await registered('a');
    const b = await registered('b');
    await Promise.all([sut.authenticate('a', a.token), sut.authenticate('b', b.token)]);
    store.lookups.length = 0;

    changes.hear(null);
    await Promise.all([sut.authenticate('a', a.token), sut.authenticate('b', b.token)]);

    expect(store.lookups.flat().sort()).toEqual(['a', 'b']);
  });

  it('serves new default groups after a registration that changed them', async () => {
    const { secret, token } = await registered('acme', ['old', 'new']);
    await expect(sut.authenticate('acme', token)).resolves.toMatchObject({ defaultGroups: ['old', 'new'] });

    const rotated = (await register('acme', secret, ['new'])).token;

    await expect(sut.authenticate('acme', rotated)).resolves.toMatchObject({ clientId: 'acme', defaultGroups: ['new'] });
  });

  it('serves narrowed grants at once, though the token had been accepted just before', async () => {
    const { token } = await registered('acme', ['eu', 'tenant-a/*']);
    const before = await sut.authenticate('acme', token);
    expect([before.grants.allows('eu'), before.grants.allows('tenant-a/x')]).toEqual([true, true]);

    await clients.setGrants('acme', ['eu']);

    const after = await sut.authenticate('acme', token);
    expect([after.grants.allows('eu'), after.grants.allows('tenant-a/x')]).toEqual([true, false]);
    expect(store.lookups).toHaveLength(2);
  });

  it('issues no token when registration names a group outside the grants', async () => {
    const { secret, token } = await registered('acme', ['eu']);

    await expect(register('acme', secret, ['eu', 'us'])).rejects.toMatchObject({ name: 'GroupNotGrantedError', group: 'us' });

    expect(await reasonOf(sut.authenticate('acme', token))).toBe('accepted');
  });

  it('checks a wrong token against the database, never against the cache alone', async () => {
    const { token } = await registered('acme');
    await sut.authenticate('acme', token);
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

    expect(await reasonOf(sut.authenticate('acme', wrong))).toBe('mismatch');
    expect(store.lookups).toHaveLength(2);
  });

  it('does not keep a token with no time left to live', async () => {
    const { token } = await registered('acme');
    store.tokens.get('acme')!.lifetimeMs = 0;

    expect(await reasonOf(sut.authenticate('acme', token))).toBe('expired');
    expect(await reasonOf(sut.authenticate('acme', token))).toBe('expired');
    expect(store.lookups).toHaveLength(2);
  });

  it('refuses malformed tokens without reading the database', async () => {
    expect(await reasonOf(sut.authenticate('acme', 'not-a-token'))).toBe('malformed');
    expect(await reasonOf(sut.authenticate('bad id!', 'x'.repeat(43)))).toBe('malformed');
    expect(store.lookups).toEqual([]);
  });

  it('reads the tokens of handshakes that arrive together in one query', async () => {
    const tokens = new Map<string, string>();
    for (const clientId of ['a', 'b', 'c']) tokens.set(clientId, (await registered(clientId)).token);

    const answers = await Promise.all(
      ['a', 'b', 'c', 'unknown-client'].map((clientId) => reasonOf(sut.authenticate(clientId, tokens.get(clientId) ?? tokens.get('a')))),
    );

    expect(answers).toEqual(['accepted', 'accepted', 'accepted', 'unknown']);
    expect(store.lookups).toEqual([['a', 'b', 'c', 'unknown-client']]);
  });

  it('restarts the idle clocks of consumers touched together in one write, and writes what waits at shutdown', async () => {
    await Promise.all(['a', 'b', 'a'].map((clientId) => sut.touch(clientId)));
    expect(store.touches).toEqual([['a', 'b']]);

    const pending = sut.touch('c');
    await sut.beforeApplicationShutdown();
    await pending;
    expect(store.touches).toEqual([['a', 'b'], ['c']]);
  });
});
