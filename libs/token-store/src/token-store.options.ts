export const TOKEN_STORE_OPTIONS = Symbol('TOKEN_STORE_OPTIONS');

export interface TokenStoreOptions {
  /** A token dies this long after its consumer's last connection or registration. */
  readonly tokenIdleTtlMs: number;
  /** How long a live-socket claim holds without renewal; bounds the lock-out after an instance dies. */
  readonly socketLeaseMs: number;
  /** This process, as named in live-socket rows. */
  readonly instanceId: string;
}
