import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { isDatabaseUnavailable } from '@app/database';
import { InstanceStoppingError } from '../token-store.errors.js';
import { TOKEN_STORE_OPTIONS, type TokenStoreOptions } from '../token-store.options.js';
import { type ClaimResult, LiveSocketWrites } from './live-socket-writes.js';
import { LiveSocketRepository } from './live-socket.repository.js';

/** The most claims (or releases) written in one statement. */
const CLAIM_BATCH_MAX = 500;
/**
 * Under a burst of handshakes, claim statements start at most this often:
 * a handshake may wait this long for its round, and a burst of thousands
 * costs a few hundred statements instead of thousands.
 */
const CLAIM_ROUND_GAP_MS = 4;

export interface LiveSocketView {
  readonly socketId: string;
  readonly instanceId: string;
  readonly connectedAt: Date;
}

/**
 * Enforces "one open connection per client" across every instance that shares
 * the database. This instance renews the leases of its sockets a few times per
 * lease period, so a crashed instance locks its consumers out for at most one
 * lease. Claims and releases are written in batches (see LiveSocketWrites).
 */
@Injectable()
export class LiveSocketService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LiveSocketService.name);
  private renewTimer?: NodeJS.Timeout;
  private readonly writes: LiveSocketWrites;
  private stopping = false;

  constructor(
    private readonly sockets: LiveSocketRepository,
    @Inject(TOKEN_STORE_OPTIONS) private readonly options: TokenStoreOptions,
  ) {
    this.writes = new LiveSocketWrites(
      {
        claimMany: (claims) => sockets.claimMany(claims, options.instanceId, options.socketLeaseMs, options.tokenIdleTtlMs),
        releaseMany: (released) => sockets.releaseMany(released),
      },
      isDatabaseUnavailable,
      CLAIM_BATCH_MAX,
      CLAIM_ROUND_GAP_MS,
    );
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /**
   * True if this socket is now the client's one live connection; false if
   * another holds it. Once the instance has started releasing its claims
   * (see releaseAll), InstanceStoppingError: a claim made then would outlive
   * the instance by a lease and lock its client out elsewhere.
   */
  async claim(clientId: string, socketId: string): Promise<boolean> {
    if (this.stopping) throw new InstanceStoppingError();
    return this.writes.claim(clientId, socketId);
  }

  /**
   * A handshake's token check and claim in one statement: the claim is
   * written only if the client's token has this SHA-256 and has not expired,
   * and the client's stored credentials come back (undefined: it has no
   * token) for the caller to check as it would have read them. Saves a
   * handshake whose token is not cached one database round trip of two.
   */
  claimWithToken(clientId: string, socketId: string, tokenHash: Buffer): Promise<ClaimResult> {
    if (this.stopping) return Promise.reject(new InstanceStoppingError());
    return this.writes.claimWithToken(clientId, socketId, tokenHash);
  }

  release(clientId: string, socketId: string): Promise<void> {
    return this.writes.release(clientId, socketId);
  }

  /** The client's one open connection, on whichever instance holds it. */
  async find(clientId: string): Promise<LiveSocketView | null> {
    const row = await this.sockets.findLiveByClientId(clientId);
    return row && { socketId: row.socketId, instanceId: row.instanceId, connectedAt: row.connectedAt };
  }

  onApplicationBootstrap(): void {
    const every = Math.max(1_000, Math.floor(this.options.socketLeaseMs / 3));
    this.renewTimer = setInterval(() => void this.renew(), every);
    this.renewTimer.unref();
  }

  /**
   * Releases every claim of this instance at once, and takes no new ones:
   * its consumers, about to be closed, can connect to another instance
   * without waiting for their leases to run out. Called when the instance stops.
   */
  async releaseAll(): Promise<void> {
    this.stopping = true;
    clearInterval(this.renewTimer);
    // a claim still being written would otherwise leave a row behind for a whole lease
    await this.writes.settled();
    await this.sockets
      .releaseInstance(this.options.instanceId)
      .catch((error: Error) => this.logger.warn(`could not release this instance's live sockets: ${error.message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.releaseAll();
  }

  private async renew(): Promise<void> {
    try {
      await this.sockets.renewInstance(this.options.instanceId, this.options.socketLeaseMs);
    } catch (error) {
      this.logger.warn(`could not renew live-socket leases: ${(error as Error).message}`);
    }
  }
}
