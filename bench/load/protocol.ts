import type { Distribution } from '../lib/stats.js';
import type { FloodReport } from './flood-worker.js';
import type { Endpoint } from './raw-consumer.js';

/** Commands the orchestrator sends the load process, one at a time, each answered by one reply. */
export type LoadCommand =
  | {
      readonly cmd: 'connect';
      /** Where the consumers connect, and where the runs that follow publish. */
      readonly endpoint: Endpoint;
      /** Other instances of the same server: the consumers are dealt in turn over `endpoint` and these; publishes still go to `endpoint`. */
      readonly others?: readonly Endpoint[];
      readonly path: string;
      readonly from: number;
      readonly count: number;
      readonly concurrency: number;
    }
  | { readonly cmd: 'fanout'; readonly entities: number; readonly inFlight: number; readonly idPrefix: string; readonly entityBytes: number }
  | {
      readonly cmd: 'latency';
      readonly entitiesPerSecond: number;
      readonly durationMs: number;
      readonly warmupMs: number;
      readonly idPrefix: string;
      readonly entityBytes: number;
    }
  | { readonly cmd: 'disconnect' }
  | {
      /**
       * The connected consumers are dropped by the server (`drop`, an HTTP request it understands) and each
       * reconnects after a random wait of up to `jitterMs`; a refused reconnect is tried again after 250–750 ms.
       */
      readonly cmd: 'storm';
      readonly drop: DropRequest;
      readonly jitterMs: number;
    }
  | {
      readonly cmd: 'flood-start';
      readonly endpoint: Endpoint;
      readonly path: string;
      readonly concurrency: number;
      readonly sources: number;
      readonly knownFrom: number;
      readonly knownCount: number;
    }
  | { readonly cmd: 'flood-stop' }
  | RecoveryCommand
  | { readonly cmd: 'exit' };

/** The recovery scenario's commands (bench/load/recovery.ts). */
export type RecoveryCommand =
  | {
      /** Connects the stayers (once) and the storm consumers (plainly), at most `concurrency` handshakes in flight. */
      readonly cmd: 'recovery-connect';
      readonly endpoint: Endpoint;
      readonly path: string;
      readonly stayersFrom: number;
      readonly stayers: number;
      readonly stormFrom: number;
      readonly consumers: number;
      readonly concurrency: number;
    }
  /** The storm consumers disconnect, each remembering the last seq it received. */
  | { readonly cmd: 'recovery-leave' }
  /** Entities published while the storm consumers are away. */
  | { readonly cmd: 'recovery-away'; readonly entities: number; readonly inFlight: number; readonly idPrefix: string; readonly entityBytes: number }
  | {
      /** Live publishing measured on the stayers; at the end of the warm-up the storm consumers reconnect (`plain`, `recover`) or not (`quiet`). */
      readonly cmd: 'recovery-phase';
      readonly mode: 'quiet' | 'plain' | 'recover';
      readonly entitiesPerSecond: number;
      readonly warmupMs: number;
      readonly durationMs: number;
      readonly idPrefix: string;
      readonly entityBytes: number;
      /** The highest seq published while the storm consumers were away: a recovering consumer must be owed up to it at least. */
      readonly awayHighestSeq: number;
    }
  | { readonly cmd: 'recovery-end' };

/** What `recovery-connect` answers: the stayers and storm consumers connected. */
export interface RecoveryReply {
  readonly stayers: number;
  readonly storm: number;
}

export interface RecoveryAwayReport {
  readonly entities: number;
  readonly accepted: number;
  readonly publishErrors: Record<string, number>;
  /** The highest seq the stayers received among these entities. */
  readonly highestSeq: number;
  readonly stayersReceived: number;
  readonly stayersExpected: number;
}

export interface RecoveryPhaseReport {
  readonly mode: 'quiet' | 'plain' | 'recover';
  readonly stayers: number;
  readonly live: {
    readonly sent: number;
    readonly accepted: number;
    readonly expected: number;
    readonly delivered: number;
    /** Publish → receive on the stayers, entities sent after the warm-up. */
    readonly latencyMs: Distribution;
    /** The same, entities sent from the storm's start until its last consumer was caught up (after the warm-up when quiet). */
    readonly duringStormMs: Distribution;
  };
  readonly storm?: {
    readonly consumers: number;
    /** From the first reconnect until the last consumer was caught up; NaN when some never were. */
    readonly elapsedMs: number;
    readonly caughtUp: number;
    /** Consumers that were refused, lost, not recovered, owed too little, or timed out, by reason. */
    readonly failures: Record<string, number>;
    /** The `missed` of the recovered welcomes. */
    readonly missed?: { readonly min: number; readonly median: number; readonly max: number };
    readonly consumersWithMismatches: number;
    readonly mismatchedFrames: number;
    readonly firstMismatches: string[];
  };
}

/** How the orchestrator asks a server to close every consumer's connection: the same way for every target. */
export interface DropRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface StormReport {
  readonly consumers: number;
  /** Consumers welcomed again before the timeout. */
  readonly back: number;
  /** From the drop request until the last consumer was welcomed again; NaN when some never were. */
  readonly elapsedMs: number;
  /** Time from the drop request until each consumer was welcomed again. */
  readonly backMs: Distribution;
  /** Reconnects refused and tried again, by HTTP status (0: no answer). */
  readonly retried: Record<string, number>;
}

export interface ConnectReport {
  readonly requested: number;
  readonly connected: number;
  readonly refused: Record<string, number>;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly connectMs: Distribution;
}

export interface FanoutReport {
  readonly consumers: number;
  readonly entities: number;
  readonly accepted: number;
  readonly publishErrors: Record<string, number>;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly elapsedMs: number;
  readonly deliveriesPerSecond: number;
}

export interface LatencyReport {
  readonly consumers: number;
  readonly sent: number;
  readonly accepted: number;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly deliveriesPerSecond: number;
  readonly latencyMs: Distribution;
  /** Per entity, in the order sent, its slowest delivery. */
  readonly slowestPerEntityMs: number[];
  /** Per entity, its fastest delivery: the time before its broadcast began. */
  readonly fastestPerEntityMs: number[];
}

export type LoadReply =
  | {
      readonly ok: true;
      readonly result:
        | ConnectReport
        | FanoutReport
        | LatencyReport
        | StormReport
        | FloodReport
        | RecoveryAwayReport
        | RecoveryPhaseReport
        | RecoveryReply
        | { closed: number }
        | null;
    }
  | { readonly ok: false; readonly error: string };
