import type { HandshakeCredentials } from '../tokens/consumer-token.repository.js';
import type { LiveSocketEntity } from './live-socket.entity.js';

/** One socket of one client. */
export interface SocketRef {
  readonly clientId: string;
  readonly socketId: string;
}

/** A claim; with `tokenHash`, one that also checks the handshake's token in the same statement. */
export interface ClaimRef extends SocketRef {
  /**
   * The SHA-256 of the token the handshake offered: the claim is written only
   * if the client's stored token has this hash and has not expired, and the
   * stored credentials come back, for the caller to check and refuse as usual.
   */
  readonly tokenHash?: Buffer;
}

/** What one claim statement did. */
export interface ClaimAnswers {
  /** The clients whose claim won. */
  readonly won: ReadonlySet<string>;
  /** For the claims that carried a token hash: each client's stored credentials; absent, the client has no token. */
  readonly credentials: ReadonlyMap<string, HandshakeCredentials>;
}

/** Persistence of live sockets; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class LiveSocketRepository {
  /**
   * Atomically takes each client's row unless a live lease holds it, in one
   * statement; the clients whose claim won, and the stored credentials of
   * those whose claim carried a token hash (see ClaimRef). Each client appears
   * at most once in `claims`.
   */
  abstract claimMany(claims: readonly ClaimRef[], instanceId: string, leaseMs: number, tokenIdleTtlMs: number): Promise<ClaimAnswers>;
  /** Deletes the rows of these sockets, in one statement; a row another socket holds by now stays. */
  abstract releaseMany(sockets: readonly SocketRef[]): Promise<void>;
  abstract renewInstance(instanceId: string, leaseMs: number): Promise<void>;
  abstract releaseInstance(instanceId: string): Promise<void>;
  /** The client's socket, unless its lease ran out. */
  abstract findLiveByClientId(clientId: string): Promise<LiveSocketEntity | null>;
}
