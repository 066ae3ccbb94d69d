/** What a handshake needs to know about a client's token. */
export interface HandshakeCredentials {
  readonly tokenHash: Buffer;
  readonly expired: boolean;
  /** How long the token has left to live, by the database clock, in milliseconds. */
  readonly remainingMs: number;
  readonly grants: string[];
  /** The groups chosen at registration; null: the plain grants. */
  readonly defaultGroups: string[] | null;
}

/** Persistence of consumer tokens; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class ConsumerTokenRepository {
  /** Stores a new token hash for the client, replacing any earlier one, and returns when it expires. */
  abstract replace(clientId: string, tokenHash: Buffer, idleTtlMs: number): Promise<Date>;
  /** The credentials of those of the clients that have a token, in one query. */
  abstract findHandshakeCredentials(clientIds: readonly string[], idleTtlMs: number): Promise<Map<string, HandshakeCredentials>>;
  /** Restarts the idle clock of every client named, in one statement. */
  abstract touch(clientIds: readonly string[]): Promise<void>;
}
