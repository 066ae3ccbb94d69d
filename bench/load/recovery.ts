import { Worker } from 'node:worker_threads';
import { median } from '../lib/stats.js';
import type { RecoveryAwayReport, RecoveryCommand, RecoveryPhaseReport, RecoveryReply } from './protocol.js';
import { type ConsumerEvents, consumerAddress, type Credentials, type Endpoint, RawConsumer } from './raw-consumer.js';
import type { LiveReport, StayersCommand, StayersSettings } from './stayers-worker.js';

/**
 * The recovery scenario's side of the load process. Two sets of consumers:
 * the stayers, connected throughout, on whom live delivery latency is
 * measured (on a thread of their own, with the publisher: stayers-worker.ts);
 * and the storm consumers, read on this thread, who leave, miss entities and all come
 * back at once, either plainly or with the last seq they received
 * (`last_seq`). Every storm consumer checks the seqs it receives: after a
 * welcome, each entity frame must carry the seq that follows the one before
 * (the replay starting right after the `last_seq` it gave), none missing,
 * none repeated.
 */
const CONNECT_TIMEOUT_MS = 60_000;
const STORM_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One storm consumer: its credentials, the last seq it holds, and how its current connection is doing. */
class StormConsumer {
  socket: RawConsumer | undefined;
  /** Highest seq received (or adopted from a welcome without recovery): what it says when it comes back. */
  lastSeq = 0;
  /** The seq the next entity frame must carry; undefined until welcomed. */
  private expected: number | undefined;
  /** Entities still owed by the replay after a `recovered: true` welcome. */
  owed = 0;
  caughtUpAt = Number.NaN;
  /** Frames whose seq was not the one expected, on the current connection. */
  mismatches = 0;
  firstMismatch: string | undefined;
  failure: string | undefined;

  constructor(
    readonly index: number,
    readonly credentials: Credentials,
  ) {}

  reset(): void {
    this.expected = undefined;
    this.owed = 0;
    this.caughtUpAt = Number.NaN;
    this.mismatches = 0;
    this.firstMismatch = undefined;
    this.failure = undefined;
  }

  /** The welcome arrived; true when the consumer is caught up by it alone. */
  welcomed(asked: number | undefined): boolean {
    const welcome = this.socket!.welcome ?? {};
    if (asked === undefined) {
      // a plain connection starts live after the welcome's last_seq, which the client adopts
      this.lastSeq = Math.max(this.lastSeq, welcome.last_seq ?? 0);
      this.expected = (welcome.last_seq ?? 0) + 1;
      return true;
    }
    if (welcome.recovered !== true) {
      this.failure = `not recovered: ${welcome.reason ?? 'no recovered field'}`;
      this.lastSeq = Math.max(this.lastSeq, welcome.last_seq ?? 0);
      this.expected = (welcome.last_seq ?? 0) + 1;
      return false;
    }
    // recovered: the missed entities follow and bring the client to the welcome's last_seq; it does not adopt it
    this.expected = asked + 1;
    this.owed = welcome.missed ?? 0;
    return this.owed === 0;
  }

  /** One entity frame; true when it is the last one the replay owed. */
  entity(seq: number): boolean {
    if (this.expected !== undefined && seq !== this.expected) {
      if (this.mismatches++ === 0) this.firstMismatch = `seq ${seq} where ${this.expected} was expected`;
    }
    this.expected = seq + 1;
    if (seq > this.lastSeq) this.lastSeq = seq;
    if (this.owed > 0) return --this.owed === 0;
    return false;
  }
}

/** The stayers' thread, asked one thing at a time (and `stop` while `live` runs). */
class Stayers {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { done: (result: unknown) => void; fail: (error: Error) => void }>();
  private nextId = 0;

  constructor(settings: StayersSettings) {
    this.worker = new Worker(new URL('./stayers-worker.js', import.meta.url), { workerData: settings });
    this.worker.on('message', (reply: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiter?.done(reply.result);
      else waiter?.fail(new Error(reply.error));
    });
    this.worker.on('error', (error) => {
      for (const waiter of this.waiting.values()) waiter.fail(error);
      this.waiting.clear();
    });
  }

  ask<T>(command: StayersCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((done, fail) => {
      this.waiting.set(id, { done: done as (result: unknown) => void, fail });
      this.worker.postMessage({ id, command });
    });
  }

  async close(): Promise<void> {
    await this.ask({ cmd: 'close' });
    await this.worker.terminate();
  }
}

let endpoint: Endpoint | undefined;
let path = '/ws/publish';
let stayers: Stayers | undefined;
let stayerCount = 0;
let storm: StormConsumer[] = [];

/** Opens `consumers` sockets, at most `concurrency` handshakes in flight, and waits until each is welcomed or refused. */
function open(
  count: number,
  concurrency: number,
  make: (i: number, settled: () => void) => RawConsumer,
): Promise<{ connected: number; refused: number; reasons: Record<string, number> }> {
  let next = 0;
  let done = 0;
  let connected = 0;
  const reasons: Record<string, number> = {};
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ connected, refused: count - connected, reasons }), CONNECT_TIMEOUT_MS);
    const start = () => {
      const i = next++;
      const consumer = make(i, () => {
        if (consumer.open) connected++;
        else {
          const reason = String(consumer.status || consumer.error || 'no answer');
          reasons[reason] = (reasons[reason] ?? 0) + 1;
        }
        if (++done === count) {
          clearTimeout(timer);
          resolve({ connected, refused: count - connected, reasons });
        } else if (next < count) start();
      });
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) start();
    if (count === 0) resolve({ connected, refused: 0, reasons });
  });
}

/** Connects the stayers and the storm consumers (plainly): the set-up of a round, not timed. */
async function connect(command: Extract<RecoveryCommand, { cmd: 'recovery-connect' }>, credentials: Credentials[]): Promise<RecoveryReply> {
  endpoint = command.endpoint;
  path = command.path;
  if (credentials.length < command.stayersFrom + command.stayers || credentials.length < command.stormFrom + command.consumers) {
    throw new Error(`only ${credentials.length} seeded consumers`);
  }
  if (!stayers) {
    stayers = new Stayers({
      endpoint: command.endpoint,
      path,
      credentials: credentials.slice(command.stayersFrom, command.stayersFrom + command.stayers),
      from: command.stayersFrom,
      concurrency: command.concurrency,
    });
    const opened = await stayers.ask<{ connected: number; refused: number }>({ cmd: 'connect' });
    if (opened.refused > 0) throw new Error(`${opened.refused} of ${command.stayers} connected consumers were refused or timed out`);
    stayerCount = opened.connected;
  }
  if (storm.length === 0)
    storm = Array.from({ length: command.consumers }, (_, i) => new StormConsumer(command.stormFrom + i, credentials[command.stormFrom + i]));
  const opened = await open(storm.length, command.concurrency, (i, settled) => plainSocket(storm[i], settled));
  if (opened.refused > 0) {
    throw new Error(`${opened.refused} of ${storm.length} storm consumers were refused or timed out at set-up: ${JSON.stringify(opened.reasons)}`);
  }
  return { stayers: stayerCount, storm: opened.connected };
}

function plainSocket(consumer: StormConsumer, settled: () => void): RawConsumer {
  consumer.reset();
  const events: ConsumerEvents = {
    welcomed: () => {
      consumer.welcomed(undefined);
      settled();
    },
    refused: settled,
    entity: (_socket, _sentAt, seq) => consumer.entity(seq),
    lost: () => undefined,
  };
  consumer.socket = new RawConsumer(endpoint!, consumer.credentials, events, path, consumerAddress(consumer.index), { trackSeq: true });
  return consumer.socket;
}

/** The storm consumers leave; the stayers stay. */
function leave(): { closed: number } {
  let closed = 0;
  for (const consumer of storm) {
    if (consumer.socket?.open) closed++;
    consumer.socket?.close();
    consumer.socket = undefined;
  }
  return { closed };
}

/** Publishes while the storm consumers are away, and waits until every stayer has every accepted entity. */
function publishAway(command: Extract<RecoveryCommand, { cmd: 'recovery-away' }>): Promise<RecoveryAwayReport> {
  if (!stayers) throw new Error('connect first');
  return stayers.ask<RecoveryAwayReport>({
    cmd: 'away',
    entities: command.entities,
    inFlight: command.inFlight,
    idPrefix: command.idPrefix,
    entityBytes: command.entityBytes,
  });
}

/**
 * Publishes at a steady rate for `warmupMs + durationMs` at least, measuring
 * publish -> receive on the stayers; at the end of the warm-up, unless `mode`
 * is `quiet`, every storm consumer reconnects at once, plainly or with
 * `last_seq`, and publishing goes on until the storm is over. Ends when the
 * stayers have everything and every storm consumer is caught up (or has
 * failed, or the storm timed out).
 */
async function phase(command: Extract<RecoveryCommand, { cmd: 'recovery-phase' }>): Promise<RecoveryPhaseReport> {
  if (!endpoint || !stayers) throw new Error('connect first');
  const live = stayers.ask<LiveReport>({
    cmd: 'live',
    entitiesPerSecond: command.entitiesPerSecond,
    warmupMs: command.warmupMs,
    minDurationMs: command.durationMs,
    idPrefix: command.idPrefix,
    entityBytes: command.entityBytes,
  });
  let stormReport: StormOutcome | undefined;
  if (command.mode === 'quiet') {
    await stayers.ask({ cmd: 'stop' });
  } else {
    await sleep(command.warmupMs);
    stormReport = await reconnectAll(command.mode === 'recover', command.awayHighestSeq);
    // the stayers' entities sent from the storm's start until its last consumer was caught up (or it timed out)
    const to = Number.isFinite(stormReport.endedAt) ? stormReport.endedAt : performance.now();
    await stayers.ask({ cmd: 'stop', window: { from: performance.timeOrigin + stormReport.startedAt, to: performance.timeOrigin + to } });
  }
  const liveReport = await live;
  // what the storm consumers got after being caught up counts too: a repeated or missing live frame is a mismatch
  const mismatched = storm.filter((consumer) => consumer.mismatches > 0);
  return {
    mode: command.mode,
    stayers: stayerCount,
    live: liveReport,
    storm: stormReport && {
      consumers: storm.length,
      elapsedMs: stormReport.elapsedMs,
      caughtUp: stormReport.caughtUp,
      failures: stormReport.failures,
      missed: stormReport.missed,
      consumersWithMismatches: mismatched.length,
      mismatchedFrames: mismatched.reduce((sum, consumer) => sum + consumer.mismatches, 0),
      firstMismatches: mismatched.slice(0, 5).map((consumer) => `${consumer.credentials.clientId}: ${consumer.firstMismatch}`),
    },
  };
}

interface StormOutcome {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly elapsedMs: number;
  readonly caughtUp: number;
  readonly failures: Record<string, number>;
  readonly missed?: { readonly min: number; readonly median: number; readonly max: number };
}

/** Every storm consumer reconnects at once; resolves when each is caught up (welcomed, and with `recover` replayed all it missed) or has failed. */
function reconnectAll(recover: boolean, awayHighestSeq: number): Promise<StormOutcome> {
  const failures: Record<string, number> = {};
  const missed: number[] = [];
  let caughtUp = 0;
  let settled = 0;
  let lastCaughtUpAt = Number.NaN;
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      const stillOwed = storm.filter((consumer) => consumer.failure === undefined && Number.isNaN(consumer.caughtUpAt));
      if (stillOwed.length > 0) failures[`timed out (${STORM_TIMEOUT_MS / 1_000} s)`] = stillOwed.length;
      const complete = caughtUp === storm.length;
      resolve({
        startedAt,
        endedAt: complete ? lastCaughtUpAt : Number.NaN,
        elapsedMs: complete ? lastCaughtUpAt - startedAt : Number.NaN,
        caughtUp,
        failures,
        missed: recover ? { min: Math.min(...missed), median: median(missed), max: Math.max(...missed) } : undefined,
      });
    };
    const timer = setTimeout(finish, STORM_TIMEOUT_MS);
    const fail = (consumer: StormConsumer, why: string) => {
      if (consumer.failure !== undefined && consumer.failure !== why) return;
      consumer.failure = why;
      failures[why] = (failures[why] ?? 0) + 1;
      if (++settled === storm.length) finish();
    };
    const caught = (consumer: StormConsumer) => {
      consumer.caughtUpAt = lastCaughtUpAt = performance.now();
      caughtUp++;
      if (++settled === storm.length) finish();
    };
    for (const consumer of storm) {
      consumer.reset();
      const asked = recover ? consumer.lastSeq : undefined;
      const events: ConsumerEvents = {
        welcomed: () => {
          const done = consumer.welcomed(asked);
          if (consumer.failure !== undefined) return fail(consumer, consumer.failure);
          if (recover) {
            const owed = consumer.socket!.welcome?.missed ?? Number.NaN;
            missed.push(owed);
            // what was published while it was away must be part of what it is owed
            if (!(asked! + owed >= awayHighestSeq)) return fail(consumer, `missed ${owed} after ${asked}: short of seq ${awayHighestSeq}`);
          }
          if (done) caught(consumer);
        },
        refused: (socket) => fail(consumer, `refused (${socket.status || socket.error || 'no answer'})`),
        entity: (_socket, _sentAt, seq) => {
          if (consumer.entity(seq)) caught(consumer);
        },
        lost: () => {
          if (Number.isNaN(consumer.caughtUpAt) && consumer.failure === undefined) fail(consumer, 'lost before caught up');
        },
      };
      consumer.socket = new RawConsumer(endpoint!, consumer.credentials, events, path, consumerAddress(consumer.index), {
        trackSeq: true,
        lastSeq: asked,
      });
    }
  });
}

/** Closes every consumer of the scenario. */
async function end(): Promise<{ closed: number }> {
  const { closed } = leave();
  await stayers?.close();
  const total = closed + stayerCount;
  stayers = undefined;
  stayerCount = 0;
  storm = [];
  return { closed: total };
}

export async function handleRecovery(
  command: RecoveryCommand,
  credentials: Credentials[],
): Promise<RecoveryReply | RecoveryAwayReport | RecoveryPhaseReport | { closed: number }> {
  switch (command.cmd) {
    case 'recovery-connect':
      return connect(command, credentials);
    case 'recovery-leave':
      return leave();
    case 'recovery-away':
      return publishAway(command);
    case 'recovery-phase':
      return phase(command);
    case 'recovery-end':
      return end();
  }
}
