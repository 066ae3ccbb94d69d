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

/**
 * How long an accepted token is trusted without reading the database again.
 * Rotations and deletions are announced to every instance (ClientChanges)
 * and take effect at once; this bounds how long one whose announcement was
 * lost (a cluster whose Redis was unreachable) goes unenforced.
 */
const TOKEN_CACHE_TTL_MS = 5_000;
/** The most accepted tokens kept at once (about 200 bytes each). */
const TOKEN_CACHE_MAX_ENTRIES = 20_000;
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
   * any database work; a token accepted in the last few seconds is accepted
   * from the cache; the rest are read in batches with other handshakes.
   */
  async authenticate(clientId: string | undefined, token: string | undefined): Promise<AuthenticatedConsumer> {
    if (!clientId || !token) throw rejected('missing');
    if (!CLIENT_ID_PATTERN.test(clientId) || !TOKEN_PATTERN.test(token)) throw rejected('malformed');
    const tokenHash = sha256(token);
    const cached = this.cache.get(clientId);
    if (cached !== undefined && digestsEqual(tokenHash, Buffer.from(cached.tokenHash, 'base64'))) {
      return { clientId, grants: cached.grants, defaultGroups: cached.defaultGroups };
    }
    const epoch = this.cache.epoch;
    const stored = await this.lookups.load(clientId);
    if (!stored) throw rejected('unknown');
    if (!digestsEqual(tokenHash, stored.tokenHash)) throw rejected('mismatch');
    if (stored.expired) throw rejected('expired');
    const grants = new Grants(stored.grants);
    const defaultGroups = grants.defaults(stored.defaultGroups);
    this.cache.set(clientId, { tokenHash: stored.tokenHash.toString('base64'), grants, defaultGroups }, stored.remainingMs, epoch);
    return { clientId, grants, defaultGroups };
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
