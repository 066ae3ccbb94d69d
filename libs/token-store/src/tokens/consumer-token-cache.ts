import type { Grants } from '@app/platform';

/** What a handshake needs of a token it has seen accepted. */
export interface CachedCredentials {
  /**
   * The token's SHA-256 in base64. A string, not a Buffer: a small Buffer is a
   * slice of a shared 8 KB slab, and keeping one would keep the whole slab.
   */
  readonly tokenHash: string;
  readonly grants: Grants;
  readonly defaultGroups: readonly string[];
}

/** The credentials and their expiry in one object: the cache may hold one per idle consumer. */
interface Entry extends CachedCredentials {
  readonly expiresAt: number;
}

/**
 * A bounded, expiring cache of tokens that were accepted, by client id, so
 * that a consumer reconnecting soon after it last connected is admitted
 * without reading the database.
 *
 * Only positive answers are kept: an unknown client or a wrong token always
 * goes to the database. Entries are evicted when the token is rotated, the
 * client's grants change or the client is deleted (announced to every
 * instance); an announcement that never arrived is made good when the entry
 * expires, `ttlMs` at most after it was read, and never later than the
 * token's own idle expiry. The table holds at
 * most `maxEntries`; the oldest entries give way first.
 */
export class ConsumerTokenCache {
  private readonly entries = new Map<string, Entry>();
  private evictions = 0;

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * A stamp to take before reading the database and hand back to `set`: an
   * eviction in between (a rotation racing the read) means the answer read
   * may be stale, and it is not cached.
   */
  get epoch(): number {
    return this.evictions;
  }

  get(clientId: string): CachedCredentials | undefined {
    const entry = this.entries.get(clientId);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(clientId);
      return undefined;
    }
    return entry;
  }

  /** Keeps the credentials for `ttlMs`, or for `lifetimeMs` if the token dies sooner. */
  set(clientId: string, credentials: CachedCredentials, lifetimeMs: number, epoch: number): void {
    if (epoch !== this.evictions || lifetimeMs <= 0 || this.maxEntries <= 0) return;
    const now = this.now();
    this.entries.delete(clientId);
    // entries are in the order they were stored, so the expired ones are mostly at the front
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
    const { tokenHash, grants, defaultGroups } = credentials;
    this.entries.set(clientId, { tokenHash, grants, defaultGroups, expiresAt: now + Math.min(this.ttlMs, lifetimeMs) });
  }

  /** Forgets the client's token: it was rotated, or the client deleted. */
  evict(clientId: string): void {
    this.evictions++;
    this.entries.delete(clientId);
  }

  /** Forgets every token: changes may have been missed. */
  clear(): void {
    this.evictions++;
    this.entries.clear();
  }
}
