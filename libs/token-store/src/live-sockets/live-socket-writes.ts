import type { HandshakeCredentials } from '../tokens/consumer-token.repository.js';
import type { ClaimAnswers, ClaimRef, SocketRef } from './live-socket.repository.js';

interface Pending<T> extends ClaimRef {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/** What became of one claim. */
export interface ClaimResult {
  readonly won: boolean;
  /** For a claim that carried a token hash: the client's stored credentials; undefined, it has no token. */
  readonly credentials?: HandshakeCredentials;
}

const WON: ClaimResult = { won: true };
const LOST: ClaimResult = { won: false };

/** Where the gathered claims and releases are written, each kind in one statement. */
export interface LiveSocketStatements {
  claimMany(claims: readonly ClaimRef[]): Promise<ClaimAnswers>;
  releaseMany(sockets: readonly SocketRef[]): Promise<void>;
}

/**
 * Gathers the claims and releases asked for while the event loop works
 * through one round of I/O and writes them as release statements, then one
 * claim statement, one round at a time. A burst of handshakes then costs a
 * statement per round trip instead of one per handshake. Every release asked
 * for before a round starts is written before that round's claims, so a
 * consumer that reconnects to this instance at once is not refused because its
 * old socket's row was still there.
 *
 * A statement that fails for another reason than the database being out of
 * reach (a client deleted meanwhile, a deadlock with another instance) is
 * written again one socket at a time, so that one bad claim does not fail the
 * handshakes it happened to share a round with.
 */
export class LiveSocketWrites {
  private claims: Array<Pending<ClaimResult>> = [];
  private releases: Array<Pending<void>> = [];
  private readonly outstanding = new Set<Promise<unknown>>();
  private scheduled = false;
  private writing = false;

  constructor(
    private readonly statements: LiveSocketStatements,
    /** Whether an error means the database is out of reach, where writing one by one would only fail slower. */
    private readonly isUnavailable: (error: unknown) => boolean,
    private readonly maxBatch = 500,
    /** The shortest time from the start of one round to the start of the next, while there is more to write. */
    private readonly roundGapMs = 0,
  ) {}

  /** True if this socket is now its client's one live connection. */
  async claim(clientId: string, socketId: string): Promise<boolean> {
    return (await this.claimAs({ clientId, socketId })).won;
  }

  /**
   * The same claim, written only for a live token of this hash; the client's
   * stored credentials come back with the answer (see ClaimRef).
   */
  claimWithToken(clientId: string, socketId: string, tokenHash: Buffer): Promise<ClaimResult> {
    return this.claimAs({ clientId, socketId, tokenHash });
  }

  private claimAs({ clientId, socketId, tokenHash }: ClaimRef): Promise<ClaimResult> {
    return this.track(
      new Promise<ClaimResult>((resolve, reject) => {
        this.claims.push({ clientId, socketId, tokenHash, resolve, reject });
        this.schedule();
      }),
    );
  }

  release(clientId: string, socketId: string): Promise<void> {
    return this.track(
      new Promise<void>((resolve, reject) => {
        this.releases.push({ clientId, socketId, resolve, reject });
        this.schedule();
      }),
    );
  }

  /** Settles once everything asked for before this call has been written (or has failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.outstanding]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.outstanding.add(promise);
    const forget = () => this.outstanding.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    try {
      // whatever arrives while a round is written waits for the next round
      while (this.claims.length > 0 || this.releases.length > 0) {
        const startedAt = performance.now();
        const releases = this.releases.splice(0);
        const claims = this.claims.splice(0, this.maxBatch);
        for (let i = 0; i < releases.length; i += this.maxBatch) await this.writeReleases(releases.slice(i, i + this.maxBatch));
        if (claims.length > 0) await this.writeClaims(claims);
        // under a burst, rounds start at most every `roundGapMs`: each statement then carries the handshakes of a few
        // milliseconds, not the two or three that arrive in one quick round trip (each statement costs this process a
        // write to the database and the database a commit, whatever it carries)
        const wait = startedAt + this.roundGapMs - performance.now();
        if (wait > 0 && (this.claims.length > 0 || this.releases.length > 0)) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeReleases(releases: Array<Pending<void>>): Promise<void> {
    try {
      await this.statements.releaseMany(releases);
      for (const release of releases) release.resolve();
    } catch (error) {
      if (releases.length === 1 || this.isUnavailable(error)) {
        for (const release of releases) release.reject(error);
        return;
      }
      for (const release of releases) await this.writeReleases([release]);
    }
  }

  private async writeClaims(claims: Array<Pending<ClaimResult>>): Promise<void> {
    // a client claimed twice in one round: the first claim is written, the later ones lose to it
    const first = new Map<string, Pending<ClaimResult>>();
    const later: Array<Pending<ClaimResult>> = [];
    for (const claim of claims) {
      if (first.has(claim.clientId)) later.push(claim);
      else first.set(claim.clientId, claim);
    }
    try {
      const { won, credentials } = await this.statements.claimMany([...first.values()]);
      for (const claim of first.values()) {
        const stored = claim.tokenHash === undefined ? undefined : credentials.get(claim.clientId);
        claim.resolve(stored === undefined ? (won.has(claim.clientId) ? WON : LOST) : { won: won.has(claim.clientId), credentials: stored });
      }
      // a later claim with a token still learns what was stored, so that a wrong token is refused as one
      for (const claim of later) claim.resolve(claim.tokenHash === undefined ? LOST : { won: false, credentials: credentials.get(claim.clientId) });
    } catch (error) {
      if (first.size === 1 || this.isUnavailable(error)) {
        for (const claim of claims) claim.reject(error);
        return;
      }
      for (const claim of first.values()) await this.writeClaims([claim]);
      // a later claim loses as before; one with a token is written alone, to learn what is stored (it loses to a first that won)
      for (const claim of later) {
        if (claim.tokenHash === undefined) claim.resolve(LOST);
        else await this.writeClaims([claim]);
      }
    }
  }
}
