import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { distribution } from '../lib/stats.js';
import type { FloodReport, FloodSettings } from './flood-worker.js';
import type { ConnectReport, FanoutReport, LatencyReport, LoadCommand, LoadReply, StormReport } from './protocol.js';
import { entityBody, padFor, Publisher } from './publisher.js';
import { handleRecovery } from './recovery.js';
import { type ConsumerEvents, consumerAddress, type Credentials, type Endpoint, RawConsumer } from './raw-consumer.js';

/**
 * The load generator: a process of its own, driven by the orchestrator over
 * IPC. It holds the consumers, publishes, and times everything with one clock.
 */
const consumersFile = process.argv[2];
const credentials: Credentials[] = readFileSync(consumersFile, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => {
    const [clientId, token] = line.split(' ');
    return { clientId, token };
  });

const CONNECT_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 30_000;

let endpoint: Endpoint | undefined;
let consumers: RawConsumer[] = [];
/** The path and the address of each consumer of the last `connect`, for reconnecting them. */
let connectedPath = '';
const addressOf = new Map<RawConsumer, string>();
let lost = 0;
let delivered = 0;
let onEntity: (sentAt: number) => void = () => undefined;
let flood: Worker | undefined;

const events: ConsumerEvents = {
  welcomed: () => undefined,
  refused: () => undefined,
  entity: (_consumer, sentAt) => {
    delivered++;
    onEntity(sentAt);
  },
  lost: () => {
    lost++;
  },
};

function connectAll(command: Extract<LoadCommand, { cmd: 'connect' }>): Promise<ConnectReport> {
  endpoint = command.endpoint;
  connectedPath = command.path;
  addressOf.clear();
  lost = 0;
  const slice = credentials.slice(command.from, command.from + command.count);
  if (slice.length < command.count) throw new Error(`only ${credentials.length} seeded consumers; asked for ${command.from + command.count}`);
  const latencies = new Float64Array(slice.length);
  const refused: Record<string, number> = {};
  const opened: RawConsumer[] = [];
  let next = 0;
  let done = 0;
  let connected = 0;
  const endpoints = [command.endpoint, ...(command.others ?? [])];
  const startedAt = performance.now();
  let lastAt = startedAt;
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      events.welcomed = () => undefined;
      events.refused = () => undefined;
      consumers = opened;
      const elapsedMs = lastAt - startedAt;
      resolve({
        requested: slice.length,
        connected,
        refused,
        elapsedMs,
        perSecond: (connected / elapsedMs) * 1_000,
        connectMs: distribution(latencies, connected),
      });
    };
    const settle = () => {
      done++;
      lastAt = performance.now();
      if (done === slice.length) finish();
      else if (next < slice.length) start();
    };
    const start = () => {
      const address = consumerAddress(command.from + next);
      const consumer = new RawConsumer(endpoints[next % endpoints.length], slice[next], events, command.path, address);
      addressOf.set(consumer, address);
      next++;
      opened.push(consumer);
    };
    events.welcomed = (consumer) => {
      latencies[connected++] = consumer.welcomedAt - consumer.startedAt;
      settle();
    };
    events.refused = (_consumer, status) => {
      refused[status] = (refused[status] ?? 0) + 1;
      settle();
    };
    const timer = setTimeout(() => {
      refused.timeout = slice.length - done;
      finish();
    }, CONNECT_TIMEOUT_MS);
    for (let i = 0; i < Math.min(command.concurrency, slice.length); i++) start();
  }).then((report) => {
    consumers = consumers.filter((consumer) => consumer.open);
    return report as ConnectReport;
  });
}

/** Waits until `delivered` reaches `expected` less what lost consumers cannot receive, or until nothing arrives for a while. */
function deliveriesSettled(expected: () => number): Promise<number> {
  return new Promise((resolve) => {
    let lastCount = -1;
    let lastChange = performance.now();
    const check = () => {
      if (delivered >= expected()) return resolve(performance.now());
      if (delivered !== lastCount) {
        lastCount = delivered;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > SETTLE_TIMEOUT_MS / 6) {
        return resolve(Number.NaN);
      }
      setTimeout(check, 2);
    };
    check();
  });
}

async function fanout(command: Extract<LoadCommand, { cmd: 'fanout' }>): Promise<FanoutReport> {
  if (!endpoint) throw new Error('connect first');
  const publisher = new Publisher(endpoint.host, endpoint.port, command.inFlight);
  const pad = padFor(command.entityBytes);
  const n = consumers.length;
  delivered = 0;
  lost = 0;
  let lastDeliveryAt = 0;
  onEntity = () => {
    lastDeliveryAt = performance.now();
  };
  const publishErrors: Record<string, number> = {};
  let accepted = 0;
  let posted = 0;
  const startedAt = performance.now();
  const worker = async () => {
    while (posted < command.entities) {
      const id = `${command.idPrefix}-${posted++}`;
      const status = await publisher.post(entityBody(id, Number(performance.now().toFixed(3)), pad));
      if (status === 202) accepted++;
      else publishErrors[status] = (publishErrors[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: command.inFlight }, worker));
  // consumers lost mid-run stop counting toward what is expected of the rest
  const settledAt = await deliveriesSettled(() => accepted * (n - lost));
  onEntity = () => undefined;
  publisher.close();
  const elapsedMs = (Number.isNaN(settledAt) ? lastDeliveryAt : settledAt) - startedAt;
  return {
    consumers: n,
    entities: command.entities,
    accepted,
    publishErrors,
    expected: accepted * n,
    delivered,
    lost,
    elapsedMs,
    deliveriesPerSecond: (delivered / elapsedMs) * 1_000,
  };
}

async function latency(command: Extract<LoadCommand, { cmd: 'latency' }>): Promise<LatencyReport> {
  if (!endpoint) throw new Error('connect first');
  const publisher = new Publisher(endpoint.host, endpoint.port, 4);
  const pad = padFor(command.entityBytes);
  const n = consumers.length;
  const total = Math.round((command.entitiesPerSecond * command.durationMs) / 1_000);
  const intervalMs = 1_000 / command.entitiesPerSecond;
  const samples = new Float64Array(n * total);
  let sampled = 0;
  delivered = 0;
  lost = 0;
  const startedAt = performance.now();
  const measureFrom = startedAt + command.warmupMs;
  // the slowest delivery of each entity, in the order they were sent: shows whether a tail is one stall or spread out
  const entityIndex = new Map<number, number>();
  const slowestPerEntity: number[] = [];
  // and the fastest: what an entity costs before its broadcast starts (HTTP, recording, framing)
  const fastestPerEntity: number[] = [];
  onEntity = (sentAt) => {
    const latencyMs = performance.now() - sentAt;
    if (sentAt >= measureFrom) samples[sampled++] = latencyMs;
    const index = entityIndex.get(sentAt);
    if (index === undefined) return;
    if (latencyMs > slowestPerEntity[index]) slowestPerEntity[index] = latencyMs;
    if (latencyMs < fastestPerEntity[index]) fastestPerEntity[index] = latencyMs;
  };
  let accepted = 0;
  const posts: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = startedAt + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const id = `${command.idPrefix}-${i}`;
    const sentAt = Number(performance.now().toFixed(3));
    entityIndex.set(sentAt, slowestPerEntity.length);
    slowestPerEntity.push(0);
    fastestPerEntity.push(Number.POSITIVE_INFINITY);
    posts.push(
      publisher.post(entityBody(id, sentAt, pad)).then((status) => {
        if (status === 202) accepted++;
      }),
    );
  }
  await Promise.all(posts);
  await deliveriesSettled(() => accepted * (n - lost));
  const elapsedMs = performance.now() - startedAt;
  onEntity = () => undefined;
  publisher.close();
  return {
    consumers: n,
    sent: total,
    accepted,
    expected: accepted * n,
    delivered,
    lost,
    deliveriesPerSecond: (delivered / elapsedMs) * 1_000,
    latencyMs: distribution(samples, sampled),
    slowestPerEntityMs: slowestPerEntity.map((ms) => Math.round(ms * 10) / 10),
    fastestPerEntityMs: fastestPerEntity.map((ms) => Math.round(ms * 10) / 10),
  };
}

/**
 * A reconnect storm: the server drops every connected consumer at once and
 * each comes back after a random wait of up to `jitterMs`, as clients told to
 * reconnect at once do when they add jitter. Timed from the drop request until
 * the last one is welcomed again. A refused reconnect (409 while the old
 * connection's claim is still held, 429, 503) is tried again after 250–750 ms.
 */
async function storm(command: Extract<LoadCommand, { cmd: 'storm' }>): Promise<StormReport> {
  if (!endpoint) throw new Error('connect first');
  const target = endpoint;
  const dropped = consumers;
  const n = dropped.length;
  const backMs = new Float64Array(n);
  const retried: Record<string, number> = {};
  const reconnected: RawConsumer[] = [];
  let back = 0;
  let lastAt = Number.NaN;
  const startedAt = performance.now();
  const reconnect = (from: RawConsumer, afterMs: number) => {
    setTimeout(() => {
      const address = addressOf.get(from)!;
      const consumer = new RawConsumer(target, from.credentials, events, connectedPath, address);
      addressOf.delete(from);
      addressOf.set(consumer, address);
    }, afterMs);
  };
  const saved = { ...events };
  const report = await new Promise<StormReport>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      resolve({
        consumers: n,
        back,
        elapsedMs: back === n ? lastAt - startedAt : Number.NaN,
        backMs: distribution(backMs, back),
        retried,
      });
    };
    events.lost = (consumer) => reconnect(consumer, Math.random() * command.jitterMs);
    events.refused = (consumer, status) => {
      retried[status] = (retried[status] ?? 0) + 1;
      reconnect(consumer, 250 + Math.random() * 500);
    };
    events.welcomed = (consumer) => {
      lastAt = performance.now();
      backMs[back++] = lastAt - startedAt;
      reconnected.push(consumer);
      if (back === n) finish();
    };
    const timer = setTimeout(finish, CONNECT_TIMEOUT_MS);
    fetch(`http://${target.host}:${target.port}${command.drop.path}`, { method: 'POST', headers: command.drop.headers, body: command.drop.body })
      .then(async (response) => {
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`the drop request was answered ${response.status}`);
      })
      .catch((error: Error) => {
        retried[`drop failed: ${error.message}`] = 1;
        finish();
      });
  });
  Object.assign(events, saved);
  consumers = reconnected.filter((consumer) => consumer.open);
  return report;
}

async function disconnect(): Promise<{ closed: number }> {
  const closed = consumers.length;
  for (const consumer of consumers) consumer.close();
  consumers = [];
  return { closed };
}

function startFlood(command: Extract<LoadCommand, { cmd: 'flood-start' }>): null {
  const settings: FloodSettings = {
    endpoint: command.endpoint,
    path: command.path,
    concurrency: command.concurrency,
    sources: command.sources,
    knownClientIds: credentials.slice(command.knownFrom, command.knownFrom + command.knownCount).map((c) => c.clientId),
  };
  flood = new Worker(new URL('./flood-worker.js', import.meta.url), { workerData: settings });
  return null;
}

function stopFlood(): Promise<FloodReport> {
  const worker = flood;
  if (!worker) throw new Error('no flood running');
  flood = undefined;
  return new Promise((resolve, reject) => {
    worker.once('message', (report: FloodReport) => {
      void worker.terminate();
      resolve(report);
    });
    worker.once('error', reject);
    worker.postMessage('stop');
  });
}

async function handle(command: LoadCommand): Promise<LoadReply> {
  try {
    switch (command.cmd) {
      case 'connect':
        return { ok: true, result: await connectAll(command) };
      case 'fanout':
        return { ok: true, result: await fanout(command) };
      case 'latency':
        return { ok: true, result: await latency(command) };
      case 'storm':
        return { ok: true, result: await storm(command) };
      case 'disconnect':
        return { ok: true, result: await disconnect() };
      case 'flood-start':
        return { ok: true, result: startFlood(command) };
      case 'flood-stop':
        return { ok: true, result: await stopFlood() };
      case 'recovery-connect':
      case 'recovery-leave':
      case 'recovery-away':
      case 'recovery-phase':
      case 'recovery-end':
        return { ok: true, result: await handleRecovery(command, credentials) };
      case 'exit':
        setImmediate(() => process.exit(0));
        return { ok: true, result: null };
    }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

process.on('message', (command: LoadCommand) => {
  void handle(command).then((reply) => process.send?.(reply));
});
process.on('disconnect', () => process.exit(0));
