/** Every state a source can be in, in the order a source usually goes through them. */
export const SOURCE_STATES = ['starting', 'up', 'down', 'standby', 'stopped'] as const;

export type SourceState = (typeof SOURCE_STATES)[number];

/** A source as /health shows it. */
export interface SourceStatus {
  readonly name: string;
  readonly type: string;
  readonly state: SourceState;
  readonly last_success: string | null;
  readonly last_error: string | null;
  readonly consecutive_failures: number;
  /** Items received from a streaming source and not yet in the outbox. */
  readonly waiting: number;
}
