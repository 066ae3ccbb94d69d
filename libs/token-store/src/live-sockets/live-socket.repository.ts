import type { LiveSocketEntity } from './live-socket.entity.js';

/** One socket of one client. */
export interface SocketRef {
  readonly clientId: string;
  readonly socketId: string;
}

/** Persistence of live sockets; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class LiveSocketRepository {
  /**
   * Atomically takes each client's row unless a live lease holds it, in one
   * statement; the ids of the clients whose claim won. Each client appears at
   * most once in `claims`.
   */
  abstract claimMany(claims: readonly SocketRef[], instanceId: string, leaseMs: number): Promise<ReadonlySet<string>>;
  /** Deletes the rows of these sockets, in one statement; a row another socket holds by now stays. */
  abstract releaseMany(sockets: readonly SocketRef[]): Promise<void>;
  abstract renewInstance(instanceId: string, leaseMs: number): Promise<void>;
  abstract releaseInstance(instanceId: string): Promise<void>;
  /** The client's socket, unless its lease ran out. */
  abstract findLiveByClientId(clientId: string): Promise<LiveSocketEntity | null>;
}
