import type { SocketState } from '@app/socket-registry';
import type { OutboundSocketSpec, StoredOutboundSocket } from './outbound-socket.js';

/** Persistence of outbound sockets and of which instance holds each; bound to its TypeORM implementation in OutboundSocketsModule. */
export abstract class OutboundSocketStore {
  /** Stores the socket, held by `owner` for `leaseMs`; false when the id is taken. */
  abstract insert(spec: OutboundSocketSpec, owner: string, leaseMs: number): Promise<boolean>;
  abstract count(): Promise<number>;
  /** Every stored socket, oldest first. */
  abstract list(): Promise<StoredOutboundSocket[]>;
  abstract find(socketId: string): Promise<StoredOutboundSocket | null>;
  /** Deletes the socket; false when there was none. */
  abstract remove(socketId: string): Promise<boolean>;
  /** Whether `owner` still holds the socket (it is stored, and its lease is `owner`'s). */
  abstract holds(socketId: string, owner: string): Promise<boolean>;
  /** Renews every lease `owner` holds; the ids it still holds. */
  abstract renew(owner: string, leaseMs: number): Promise<Set<string>>;
  /** Takes up to `limit` sockets nobody holds (no owner, or a lapsed lease), oldest first. */
  abstract claim(owner: string, leaseMs: number, limit: number): Promise<StoredOutboundSocket[]>;
  /** Records the state `owner` sees, for the other instances' listings. */
  abstract setState(socketId: string, owner: string, state: SocketState): Promise<void>;
  /** Gives up every lease `owner` holds, so that the next instance takes them at once. */
  abstract release(owner: string): Promise<void>;
}
