import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { ClientEntity } from '../clients/client.entity.js';
import { ClientChanges } from '../clients/client-changes.js';
import { ClientService } from '../clients/client.service.js';
import { digestsEqual, Grants, randomCredential, sha256 } from '@app/platform';
import { CLIENT_ID_PATTERN, TOKEN_PATTERN } from '../identifiers.js';
import { TOKEN_STORE_OPTIONS, type TokenStoreOptions } from '../token-store.options.js';
import { TokenRejectedError, type TokenRejection } from '../token-store.errors.js';
import { BatchedLookup, BatchedWrite } from './batching.js';
import { ConsumerTokenCache } from './consumer-token-cache.js';
import { ConsumerTokenRepository, type HandshakeCredentials } from './consumer-token.repository.js';

export interface IssuedToken {
  readonly clientId: string;
  readonly token: string;
  readonly expiresAt: Date;
}

export interface AuthenticatedConsumer {
  readonly clientId: string;
  /** The only groups the consumer may be in. */
  readonly grants: Grants;
  /** The groups it joins when its handshake names none. */
  readonly defaultGroups: readonly string[];
}

/** Reads a client's stored token in place of the batched lookup; `tokenHash` is the offered token's SHA-256. */
export type StoredCredentialsReader = (clientId: string, tokenHash: Buffer) => Promise<HandshakeCredentials | undefined>;

/**
 * How long an accepted token is trusted without reading the database again.
 * Rotations and deletions are announced to every instance (ClientChanges)
 * and take effect at once; this bounds how long one whose announcement was
 * lost (a cluster whose Redis was unreachable) goes unenforced.
 */
const TOKEN_CACHE_TTL_MS = 5_000;
/** The most accepted tokens kept at once (about 200 bytes each). */
const TOKEN_CACHE_MAX_ENTRIES = 20_000;
/** The most distinct sets of grants and default groups shared at once; past it they are made afresh. */
const ACCESS_MAX_ENTRIES = 1_000;
/** Idle clocks restarted within this window are written in one statement. */
const TOUCH_BATCH_MS = 250;

/**
 * A refusal without a stack trace: refusals are expected answers, not
 * faults, nobody reads their stack, and capturing one costs more than the
 * check that refused (a flood of bogus handshakes is a flood of these).
 */
function rejected(reason: TokenRejection): TokenRejectedError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new TokenRejectedError(reason);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

@Injectable()
export class ConsumerTokenService implements BeforeApplicationShutdown {
  private readonly cache: ConsumerTokenCache;
  private readonly lookups: BatchedLookup<HandshakeCredentials>;
  private readonly touches: BatchedWrite;
  private readonly accessByKey = new Map<string, Pick<AuthenticatedConsumer, 'grants' | 'defaultGroups'>>();

  constructor(
    private readonly clients: ClientService,
    private readonly tokens: ConsumerTokenRepository,
    @Inject(TOKEN_STORE_OPTIONS) private readonly options: TokenStoreOptions,
    private readonly changes: ClientChanges,
  ) {
    this.cache = new ConsumerTokenCache(TOKEN_CACHE_MAX_ENTRIES, TOKEN_CACHE_TTL_MS);
    this.lookups = new BatchedLookup((clientIds) => this.tokens.findHandshakeCredentials(clientIds, this.options.tokenIdleTtlMs));
    this.touches = new BatchedWrite((clientIds) => this.tokens.touch(clientIds), TOUCH_BATCH_MS);
    changes.listen((clientId) => (clientId === null ? this.cache.clear() : this.cache.evict(clientId)));
  }

  /**
   * Issues a new token to a client whose credentials were verified, which
   * replaces (rotates) any token it had. Groups given here become its default
   * groups, and each must be granted (GroupNotGrantedError otherwise, and no
   * token is issued).
   */
  async issue(client: ClientEntity, groups?: readonly string[]): Promise<IssuedToken> {
    const clientId = client.clientId;
    if (groups !== undefined) await this.clients.chooseDefaultGroups(client, groups);
    const token = randomCredential(32);
    const expiresAt = await this.tokens.replace(clientId, sha256(token), this.options.tokenIdleTtlMs);
    // the old token stops working everywhere before the new one is handed out
    await this.changes.announce(clientId);
    return { clientId, token, expiresAt };
  }

  /**
   * Checks a token offered in a handshake. Malformed input is refused before
   * any database work. With `read`, the caller reads the stored token itself
   * (a handshake that claims its connection in the same statement; see
   * LiveSocketService.claimWithToken), and the cache is not used. Otherwise a
   * token accepted in the last few seconds is accepted from the cache, and the
   * rest are read in batches with other handshakes. Either way the offered
   * token's hash is compared with the stored one here, in constant time.
   */
  async authenticate(clientId: string | undefined, token: string | undefined, read?: StoredCredentialsReader): Promise<AuthenticatedConsumer> {
    if (!clientId || !token) throw rejected('missing');
    if (!CLIENT_ID_PATTERN.test(clientId) || !TOKEN_PATTERN.test(token)) throw rejected('malformed');
    const tokenHash = sha256(token);
    if (read) {
      // the token is read in the statement that claims the connection, which a cache hit would not spare: no cache either
      // way, and a token rotated or a client deleted through any instance is refused at once
      return this.accept(clientId, tokenHash, await read(clientId, tokenHash));
    }
    const cached = this.cache.get(clientId);
    if (cached !== undefined && digestsEqual(tokenHash, Buffer.from(cached.tokenHash, 'base64'))) {
      return { clientId, grants: cached.grants, defaultGroups: cached.defaultGroups };
    }
    const epoch = this.cache.epoch;
    const stored = await this.lookups.load(clientId);
    const consumer = this.accept(clientId, tokenHash, stored);
    this.cache.set(clientId, { tokenHash: stored!.tokenHash.toString('base64'), ...consumer }, stored!.remainingMs, epoch);
    return consumer;
  }

  /** The consumer whose stored token the offered one matches (compared in constant time), or the refusal. */
  private accept(clientId: string, tokenHash: Buffer, stored: HandshakeCredentials | undefined): AuthenticatedConsumer {
    if (!stored) throw rejected('unknown');
    if (!digestsEqual(tokenHash, stored.tokenHash)) throw rejected('mismatch');
    if (stored.expired) throw rejected('expired');
    const { grants, defaultGroups } = this.access(stored);
    return { clientId, grants, defaultGroups };
  }

  /**
   * The grants and default groups of a stored token, shared by every client
   * with the same ones (most clients of a deployment have one of a few sets):
   * a cached token then costs no Grants of its own. Both are read-only.
   */
  private access(stored: HandshakeCredentials): Pick<AuthenticatedConsumer, 'grants' | 'defaultGroups'> {
    const key = JSON.stringify([stored.grants, stored.defaultGroups]);
    let access = this.accessByKey.get(key);
    if (access === undefined) {
      const grants = new Grants(stored.grants);
      access = { grants, defaultGroups: Object.freeze(grants.defaults(stored.defaultGroups)) };
      if (this.accessByKey.size >= ACCESS_MAX_ENTRIES) this.accessByKey.clear();
      this.accessByKey.set(key, access);
    }
    return access;
  }

  /**
   * Restarts the token's idle clock: called when the consumer connects and
   * when it leaves. Written within a quarter of a second, with the others.
   */
  touch(clientId: string): Promise<void> {
    return this.touches.add(clientId);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.touches.flush();
  }
}
