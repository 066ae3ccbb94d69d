import { parentPort, workerData } from 'node:worker_threads';
import { distribution } from '../lib/stats.js';
import type { Distribution } from '../lib/stats.js';
import type { RecoveryAwayReport } from './protocol.js';
import { entityBody, padFor, Publisher } from './publisher.js';
import { type ConsumerEvents, consumerAddress, type Credentials, type Endpoint, RawConsumer } from './raw-consumer.js';

/**
 * The recovery scenario's stayers and its publisher, on a thread of their own:
 * consumers that stay connected while the others storm back, and on whom live
 * delivery is timed (publish -> receive, one clock, this thread's). The storm
 * consumers' frames are read on the main thread, so that reading hundreds of
 * thousands of replayed frames does not delay the reading of these.
 */
export interface StayersSettings {
  readonly endpoint: Endpoint;
  readonly path: string;
  readonly credentials: readonly Credentials[];
  /** Index of the first stayer among the seeded consumers: picks the loopback address each connects from. */
  readonly from: number;
  readonly concurrency: number;
}

export type StayersCommand =
  | { readonly cmd: 'connect' }
  | { readonly cmd: 'away'; readonly entities: number; readonly inFlight: number; readonly idPrefix: string; readonly entityBytes: number }
  | {
      /** Publishes for at least `warmupMs + minDurationMs`, and on until `stop`. */
      readonly cmd: 'live';
      readonly entitiesPerSecond: number;
      readonly warmupMs: number;
      readonly minDurationMs: number;
      readonly idPrefix: string;
      readonly entityBytes: number;
    }
  | {
      /** Lets `live` end; `window` (epoch ms, `performance.timeOrigin + now()`) picks the entities timed as "during the storm". */
      readonly cmd: 'stop';
      readonly window?: { readonly from: number; readonly to: number };
    }
  | { readonly cmd: 'close' };

export interface LiveReport {
  readonly sent: number;
  readonly accepted: number;
  readonly expected: number;
  readonly delivered: number;
  /** Entities sent after the warm-up. */
  readonly latencyMs: Distribution;
  /** Entities sent within the window given to `stop` (all after the warm-up when none was). */
  readonly duringStormMs: Distribution;
}

const QUIET_MS = 5_000;
const settings = workerData as StayersSettings;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const epochMs = (now: number) => performance.timeOrigin + now;

let stayers: RawConsumer[] = [];
let onEntity: (sentAt: number, seq: number) => void = () => undefined;
let stop: ((window?: { from: number; to: number }) => void) | undefined;

function connect(): Promise<{ connected: number; refused: number }> {
  const count = settings.credentials.length;
  let next = 0;
  let done = 0;
  let connected = 0;
  return new Promise((resolve) => {
    const settled = () => {
      if (++done === count) resolve({ connected, refused: count - connected });
      else if (next < count) start();
    };
    const events: ConsumerEvents = {
      welcomed: () => {
        connected++;
        settled();
      },
      refused: settled,
      entity: (_consumer, sentAt, seq) => onEntity(sentAt, seq),
      lost: () => undefined,
    };
    const start = () => {
      const i = next++;
      stayers.push(new RawConsumer(settings.endpoint, settings.credentials[i], events, settings.path, consumerAddress(settings.from + i), { trackSeq: true }));
    };
    for (let i = 0; i < Math.min(settings.concurrency, count); i++) start();
    if (count === 0) resolve({ connected: 0, refused: 0 });
  });
}

async function waitFor(done: () => boolean): Promise<void> {
  const deadline = performance.now() + QUIET_MS;
  while (!done() && performance.now() < deadline) await sleep(5);
}

async function away(command: Extract<StayersCommand, { cmd: 'away' }>): Promise<RecoveryAwayReport> {
  const publisher = new Publisher(settings.endpoint.host, settings.endpoint.port, command.inFlight);
  const pad = padFor(command.entityBytes);
  let received = 0;
  let highestSeq = 0;
  onEntity = (_sentAt, seq) => {
    received++;
    if (seq > highestSeq) highestSeq = seq;
  };
  const publishErrors: Record<string, number> = {};
  let accepted = 0;
  let posted = 0;
  const worker = async () => {
    while (posted < command.entities) {
      const status = await publisher.post(entityBody(`${command.idPrefix}-${posted++}`, Number(performance.now().toFixed(3)), pad));
      if (status === 202) accepted++;
      else publishErrors[status] = (publishErrors[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: command.inFlight }, worker));
  await waitFor(() => received >= accepted * stayers.length);
  onEntity = () => undefined;
  publisher.close();
  return { entities: command.entities, accepted, publishErrors, highestSeq, stayersReceived: received, stayersExpected: accepted * stayers.length };
}

async function live(command: Extract<StayersCommand, { cmd: 'live' }>): Promise<LiveReport> {
  const publisher = new Publisher(settings.endpoint.host, settings.endpoint.port, 4);
  const pad = padFor(command.entityBytes);
  const minimum = Math.round((command.entitiesPerSecond * (command.warmupMs + command.minDurationMs)) / 1_000);
  const intervalMs = 1_000 / command.entitiesPerSecond;
  const sentAts: number[] = [];
  const latencies: number[] = [];
  onEntity = (sentAt) => {
    sentAts.push(sentAt);
    latencies.push(performance.now() - sentAt);
  };
  let stopped = false;
  let window: { from: number; to: number } | undefined;
  stop = (given) => {
    stopped = true;
    window = given;
  };
  const startedAt = performance.now();
  const measureFrom = startedAt + command.warmupMs;
  let accepted = 0;
  let sent = 0;
  const posts: Promise<void>[] = [];
  while (sent < minimum || !stopped) {
    const wait = startedAt + sent * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const sentAt = Number(performance.now().toFixed(3));
    posts.push(
      publisher.post(entityBody(`${command.idPrefix}-${sent++}`, sentAt, pad)).then((status) => {
        if (status === 202) accepted++;
      }),
    );
  }
  stop = undefined;
  await Promise.all(posts);
  await waitFor(() => latencies.length >= accepted * stayers.length);
  onEntity = () => undefined;
  publisher.close();
  const whole = new Float64Array(latencies.length);
  const during = new Float64Array(latencies.length);
  let wholeCount = 0;
  let duringCount = 0;
  for (let i = 0; i < latencies.length; i++) {
    if (sentAts[i] < measureFrom) continue;
    whole[wholeCount++] = latencies[i];
    const at = epochMs(sentAts[i]);
    if (!window || (at >= window.from && at <= window.to)) during[duringCount++] = latencies[i];
  }
  return {
    sent,
    accepted,
    expected: accepted * stayers.length,
    delivered: latencies.length,
    latencyMs: distribution(whole, wholeCount),
    duringStormMs: distribution(during, duringCount),
  };
}

async function handle(command: StayersCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'connect':
      return connect();
    case 'away':
      return away(command);
    case 'live':
      return live(command);
    case 'stop':
      if (!stop) throw new Error('not publishing');
      stop(command.window);
      return null;
    case 'close':
      for (const consumer of stayers) consumer.close();
      stayers = [];
      return null;
  }
}

parentPort!.on('message', ({ id, command }: { id: number; command: StayersCommand }) => {
  handle(command).then(
    (result) => parentPort!.postMessage({ id, ok: true, result }),
    (error: Error) => parentPort!.postMessage({ id, ok: false, error: error.stack ?? error.message }),
  );
});
