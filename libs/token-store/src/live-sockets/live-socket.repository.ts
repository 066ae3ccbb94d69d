import type { LiveSocketEntity } from './live-socket.entity.js';

export interface SocketClaim {
  readonly clientId: string;
  readonly socketId: string;
  readonly instanceId: string;
  readonly leaseMs: number;
}

/** Persistence of live sockets; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class LiveSocketRepository {
  /** Atomically takes the client's row unless a live lease holds it; true if this claim won. */
  abstract claim(claim: SocketClaim): Promise<boolean>;
  abstract release(clientId: string, socketId: string): Promise<void>;
  abstract renewInstance(instanceId: string, leaseMs: number): Promise<void>;
  abstract releaseInstance(instanceId: string): Promise<void>;
  abstract findByClientId(clientId: string): Promise<LiveSocketEntity | null>;
}
