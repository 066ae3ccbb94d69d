import type { ClientEntity } from './client.entity.js';

export interface NewClient {
  readonly clientId: string;
  readonly secretHash: string;
  readonly defaultGroups: readonly string[];
}

/** Persistence of clients; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class ClientRepository {
  /** Inserts the client; false if one with that id exists already. */
  abstract insert(client: NewClient): Promise<boolean>;
  abstract findByClientId(clientId: string): Promise<ClientEntity | null>;
  /** Deletes the client with its token and live-socket row; false if there was none. */
  abstract deleteByClientId(clientId: string): Promise<boolean>;
  abstract setDefaultGroups(clientId: string, groups: readonly string[]): Promise<void>;
}
