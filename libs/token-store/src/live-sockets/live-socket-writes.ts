import type { SocketRef } from './live-socket.repository.js';

interface Pending<T> extends SocketRef {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/** Where the gathered claims and releases are written, each kind in one statement. */
export interface LiveSocketStatements {
  claimMany(claims: readonly SocketRef[]): Promise<ReadonlySet<string>>;
  releaseMany(sockets: readonly SocketRef[]): Promise<void>;
}

/**
 * Gathers the claims and releases asked for while the event loop works
 * through one round of I/O and writes them as one release statement, then one
 * claim statement, one round at a time. A burst of handshakes then costs a
 * statement per round trip instead of one per handshake. Rounds run in the
 * order they were gathered, so a release is written before any claim asked
 * for after it: a consumer that reconnects to this instance at once is not
 * refused because its old socket's row was still there.
 */
export class LiveSocketWrites {
  private claims: Array<Pending<boolean>> = [];
  private releases: Array<Pending<void>> = [];
  private scheduled = false;
  private writing?: Promise<void>;

  constructor(
    private readonly statements: LiveSocketStatements,
    private readonly maxBatch = 500,
  ) {}

  /** True if this socket is now its client's one live connection. */
  claim(clientId: string, socketId: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.claims.push({ clientId, socketId, resolve, reject });
      this.schedule();
    });
  }

  release(clientId: string, socketId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.releases.push({ clientId, socketId, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writing = this.writeAll();
    });
  }

  /** Settles once everything asked for so far has been written (or has failed). */
  async settled(): Promise<void> {
    while (this.scheduled || this.writing) await (this.writing ?? new Promise((resolve) => setImmediate(resolve)));
  }

  private async writeAll(): Promise<void> {
    try {
      // whatever arrives while a round is written waits for the next round
      while (this.claims.length > 0 || this.releases.length > 0) {
        const releases = this.releases.splice(0, this.maxBatch);
        const claims = this.claims.splice(0, this.maxBatch);
        if (releases.length > 0) await this.writeReleases(releases);
        if (claims.length > 0) await this.writeClaims(claims);
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async writeReleases(releases: Array<Pending<void>>): Promise<void> {
    try {
      await this.statements.releaseMany(releases);
      for (const release of releases) release.resolve();
    } catch (error) {
      for (const release of releases) release.reject(error);
    }
  }

  private async writeClaims(claims: Array<Pending<boolean>>): Promise<void> {
    // a client claimed twice in one round: the first claim is written, the later ones lose to it
    const first = new Map<string, Pending<boolean>>();
    const later: Array<Pending<boolean>> = [];
    for (const claim of claims) {
      if (first.has(claim.clientId)) later.push(claim);
      else first.set(claim.clientId, claim);
    }
    try {
      const won = await this.statements.claimMany([...first.values()]);
      for (const claim of first.values()) claim.resolve(won.has(claim.clientId));
      for (const claim of later) claim.resolve(false);
    } catch (error) {
      for (const claim of claims) claim.reject(error);
    }
  }
}
