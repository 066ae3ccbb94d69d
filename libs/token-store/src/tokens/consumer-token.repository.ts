/** What a handshake needs to know about a client's token, read in one query. */
export interface HandshakeCredentials {
  readonly tokenHash: Buffer;
  readonly expiresAt: Date;
  readonly expired: boolean;
  readonly defaultGroups: string[];
}

/** Persistence of consumer tokens; bound to its TypeORM implementation in TokenStoreModule. */
export abstract class ConsumerTokenRepository {
  /** Stores a new token hash for the client, replacing any earlier one, and returns when it expires. */
  abstract replace(clientId: string, tokenHash: Buffer, idleTtlMs: number): Promise<Date>;
  abstract findHandshakeCredentials(clientId: string, idleTtlMs: number): Promise<HandshakeCredentials | null>;
  /** Restarts the idle clock. */
  abstract touch(clientId: string): Promise<void>;
}
