import type { ClientEntity } from './client.entity.js';

export interface NewClient {
  readonly clientId: string;
  readonly secretHash: string;
  readonly grants: readonly string[];
}

/** Persistence of clients; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class ClientRepository {
  /** Inserts the client; false if one with that id exists already. */
  abstract insert(client: NewClient): Promise<boolean>;
  abstract findByClientId(clientId: string): Promise<ClientEntity | null>;
  /** Up to `limit` clients with ids after `after`, in id order. */
  abstract listAfter(after: string | undefined, limit: number): Promise<ClientEntity[]>;
  /** Deletes the client with its token and live-socket row; false if there was none. */
  abstract deleteByClientId(clientId: string): Promise<boolean>;
  abstract setDefaultGroups(clientId: string, groups: readonly string[]): Promise<void>;
  /** Replaces the grants; the updated client, or null if there is none. */
  abstract setGrants(clientId: string, grants: readonly string[]): Promise<ClientEntity | null>;
  /** Replaces the secret hash; false if there is no such client. */
  abstract setSecretHash(clientId: string, secretHash: string): Promise<boolean>;
}
