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
      readonly cmd: 'flood-start';
      readonly endpoint: Endpoint;
      readonly path: string;
      readonly concurrency: number;
      readonly sources: number;
      readonly knownFrom: number;
      readonly knownCount: number;
    }
  | { readonly cmd: 'flood-stop' }
  | { readonly cmd: 'exit' };

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
  | { readonly ok: true; readonly result: ConnectReport | FanoutReport | LatencyReport | FloodReport | { closed: number } | null }
  | { readonly ok: false; readonly error: string };
