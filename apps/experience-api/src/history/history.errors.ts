/** Why a gap cannot be filled from history; the consumer should resynchronise from its source of truth. */
export type UnrecoverableReason = 'history_expired' | 'epoch_changed' | 'too_many';

/** Where a reader stands once it has resynchronised: answered beside the error, so that it needs no socket to learn it. */
export interface ResumePosition {
  readonly last_seq: number;
  readonly epoch: string;
}

/** The position asked for is older than the history keeps (HISTORY_RETENTION, HISTORY_MAX_ENTITIES). */
export class HistoryExpiredError extends Error {
  readonly apiErrorCode = 'history_expired';
  constructor(
    after: number,
    prunedThrough: number,
    readonly apiErrorFields: ResumePosition,
  ) {
    super(`entities after seq ${after} are no longer all in history (pruned through seq ${prunedThrough}); resynchronise, then read from the last_seq given`);
    this.name = 'HistoryExpiredError';
  }
}

/** The position belongs to another history (another epoch, or a seq this one never reached). */
export class EpochChangedError extends Error {
  readonly apiErrorCode = 'epoch_changed';
  constructor(
    detail: string,
    readonly apiErrorFields: ResumePosition,
  ) {
    super(`${detail}: the history was reset; resynchronise, then read from the last_seq given`);
    this.name = 'EpochChangedError';
  }
}

/** Entries counted for a replay were pruned before they were read: the replay promised cannot be kept. */
export class RecoveryInterruptedError extends Error {
  constructor() {
    super('history was pruned during the replay; reconnect with the last seq received');
    this.name = 'RecoveryInterruptedError';
  }
}

/** More history reads from one address than it is allowed (the handshake allowance). */
export class TooManyReadsError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many requests from this address; retry later');
    this.name = 'TooManyReadsError';
  }
}
