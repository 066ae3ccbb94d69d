export type SourceType = 'http' | 'directory' | 'postgres' | 'amqp' | 'websocket';

export interface RetryPolicy {
  /** Attempts before the source is declared down (and probed at the slowest cadence). */
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
}

/** How a raw item becomes `{id, groups, data}`. */
export interface ItemShape {
  /** JSONata expression giving the item's id; absent: a hash of the item's content. */
  readonly id?: string;
  /** JSONata expression giving `{id?, groups?, data}`; absent: the item itself is the data. */
  readonly map?: string;
  /** Groups for every item of the source, unless the mapping gives its own. */
  readonly groups?: readonly string[];
}

interface CommonDefinition {
  readonly name: string;
  readonly intervalMs: number;
  readonly retry: RetryPolicy;
  readonly item: ItemShape;
}

export interface HttpSourceDefinition extends CommonDefinition {
  readonly type: 'http';
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  /** `Authorization` built from environment variables, never from literals in the file. */
  readonly auth?: { readonly bearerEnv: string } | { readonly basicUserEnv: string; readonly basicPasswordEnv: string };
  /** JSONata expression selecting the item list in the answer; absent: the answer (an array, or one item). */
  readonly items?: string;
  readonly timeoutMs: number;
  /** Largest answer body read, in bytes, after decompression; a larger one fails the poll. */
  readonly maxBodyBytes: number;
  /** Most items one answer may hold; more fails the poll, nothing of it stored. */
  readonly maxItems: number;
}

export interface DirectorySourceDefinition extends CommonDefinition {
  readonly type: 'directory';
  readonly path: string;
  /** A file changed more recently than this may still be being written, and waits. */
  readonly settleMs: number;
}

export interface PostgresSourceDefinition extends CommonDefinition {
  readonly type: 'postgres';
  /** Environment variable holding the connection string. */
  readonly urlEnv: string;
  /** Takes the cursor as `$1` and returns rows past it, in cursor order. */
  readonly query: string;
  /** Column whose value in the last row becomes the next cursor. */
  readonly cursorColumn: string;
  readonly initialCursor: string | number;
}

export interface AmqpSourceDefinition extends CommonDefinition {
  readonly type: 'amqp';
  readonly urlEnv: string;
  readonly queue: string;
  readonly prefetch: number;
}

export interface WebSocketSourceDefinition extends CommonDefinition {
  readonly type: 'websocket';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Header name → environment variable holding its value (for secrets). */
  readonly headersEnv: Readonly<Record<string, string>>;
  /** Messages read and not yet stored beyond which the socket is paused, so that the feed waits instead of our memory growing. */
  readonly maxPending: number;
}

export type SourceDefinition = HttpSourceDefinition | DirectorySourceDefinition | PostgresSourceDefinition | AmqpSourceDefinition | WebSocketSourceDefinition;
