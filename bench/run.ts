import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FloodReport } from './load/flood-worker.js';
import type {
  ConnectReport,
  FanoutReport,
  LatencyReport,
  LoadCommand,
  LoadReply,
  RecoveryAwayReport,
  RecoveryPhaseReport,
  StormReport,
} from './load/protocol.js';
import { MailSink } from './lib/mail-sink.js';
import { summariseProfile } from './lib/profile-summary.js';
import { checkRedis, removeKeys } from './lib/redis.js';
import { type PipelineReport, runPipeline } from './pipeline/pipeline.js';
import { removeSeeded, seedConsumers } from './lib/seed.js';
import { median, round } from './lib/stats.js';
import { hardFileLimit, raiseFileLimit, RunningTarget, TARGETS, type TargetName, type TargetOptions } from './lib/targets.js';

const HELP = `npm run bench -- [options]

Benchmarks experience-api (production build) against a bare ws server and a
Socket.IO server that implement the same push contract, from a load generator
in its own process. On Postgres when DATABASE_URL is set, else on PGlite.

  --consumers N          consumers in fan-out, latency and flood runs    (2000)
  --entities M           entities per fan-out run                        (200)
  --entity-bytes B       size of each entity's data                      (200)
  --latency-rate D       deliveries per second in latency and flood runs (20000)
  --duration S           seconds of publishing per latency run           (8)
  --idle-consumers K     consumers in the connections run (RSS, connect rate) (10000)
  --connect-concurrency C  handshakes in flight while connecting         (100)
  --storm-consumers N    consumers dropped at once in the storm run      (10000)
  --storm-jitter MS      each dropped consumer reconnects after a random wait of up to this (1000)
  --many-consumers N     idle consumers on one instance in the idle50k run (50000)
  --many-entities M      entities fanned out to all of them              (10)
  --flood-concurrency F  bogus handshakes in flight during the flood     (256)
  --flood-sources S      addresses the flood comes from (1: one attacker; 250+: a botnet
                         that per-address limits cannot stop)            (1)
  --rounds R             rounds of fan-out, latency, flood, cluster and recovery; medians are reported (3)
  --connection-rounds R  rounds of the connections scenario              (1)
  --recovery-consumers N consumers that leave and reconnect at once in the recovery run (2000)
  --missed-entities M    entities published while they are away          (200)
  --stayers K            consumers connected throughout, on whom live delivery is timed (200)
  --recovery-rate D      entities per second published live during the recovery run (10)
  --recovery-duration S  seconds of live publishing timed per phase, after 1 s of warm-up (5)
  --scenarios LIST       fanout,latency,connections,flood,storm,idle50k,cluster,recovery,pipeline
                         (fanout,latency,connections,flood: the others only when named)
  --targets LIST         gateway,ws,socketio (not used by cluster)       (all)
  --redis-url URL        the Redis of the cluster scenario               (redis://127.0.0.1:6379)
  --pipeline-items N     items per source in the pipeline run            (100000)
  --forward-batch B      system-api's FORWARD_BATCH in the pipeline run  (100)
  --source-url URL       the Postgres holding the pipeline's source table (DATABASE_URL, else
                         postgres://postgres@127.0.0.1:5432/postgres)
  --profile              CPU-profile every server; summaries in the JSON
  --help

The cluster scenario needs DATABASE_URL (a shared Postgres) and a
Redis. Each round, the same fan-out and latency runs as above (--consumers,
--entities, --latency-rate, --duration) go to two setups in turn, on the same
database: ONE experience-api instance in single-instance mode, and TWO
instances in cluster mode sharing that Redis (REDIS_URL, a REDIS_KEY_PREFIX
unique to the run, whose keys are deleted at the end; one ADMIN_TOKEN, their own
INSTANCE_ID and port). In the two-instance setup the consumers are dealt
alternately over both instances and every POST /entity goes to the first
instance, so that half the deliveries cross from one instance to the other.
Reported: deliveries/s and delivery p50/p99 of each setup, and the ratios
two instances / one instance (targets: deliveries/s >= 0.8, p99 <= 1.3).

The recovery scenario runs the gateway alone (ws and Socket.IO have no
recovery). --stayers consumers connect and stay; --recovery-consumers others
connect too. Each round has three phases, each --recovery-duration seconds of
live publishing at --recovery-rate after a 1 s warm-up, timed on the stayers
(publish -> receive): quiet (nobody leaves); plain (the others leave,
--missed-entities entities are published, then at the end of the warm-up they
all reconnect at once, without last_seq); recover (the same, each with the
last seq it received as its last_seq header). They stay away at least 6 s,
longer than the gateway keeps a token in memory, so that both storms read
every token from the database; publishing goes on until the storm is over. plain and recover alternate in
order from round to round. Reported: the storm's time from the first
reconnect until every consumer is welcomed (plain) or has every entity it
missed (recover), and recover / plain (target <= 1.5); the stayers' delivery
p99 for entities sent during the recovery storm, and that / quiet p99 (target
<= 1.5). Every reconnecting consumer checks the seqs it receives, the replay
and the live stream after it: each must be the one after the last; consumers
refused, lost, not recovered or owed too little, and frames out of place,
are counted as errors.

The pipeline scenario runs the whole suite end to end, once: experience-api and
system-api (production builds), one consumer on a WebSocket, and two sources
of system-api fed in turn: --pipeline-items rows inserted into a table of the
source database (10,000 a statement) that a postgres source reads 5,000 a
poll, then as many items in 10 NDJSON files dropped into a directory source's
folder. Each is timed from its first write to the last item at the consumer:
items/s end to end (target >= 5,000), and checked: every item exactly once,
in the source's order.`;

const { values: flags } = parseArgs({
  options: {
    consumers: { type: 'string', default: '2000' },
    entities: { type: 'string', default: '200' },
    'entity-bytes': { type: 'string', default: '200' },
    'latency-rate': { type: 'string', default: '20000' },
    duration: { type: 'string', default: '8' },
    'idle-consumers': { type: 'string', default: '10000' },
    'connect-concurrency': { type: 'string', default: '100' },
    'storm-consumers': { type: 'string', default: '10000' },
    'storm-jitter': { type: 'string', default: '1000' },
    'many-consumers': { type: 'string', default: '50000' },
    'many-entities': { type: 'string', default: '10' },
    'flood-concurrency': { type: 'string', default: '256' },
    'flood-sources': { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    'connection-rounds': { type: 'string', default: '1' },
    'recovery-consumers': { type: 'string', default: '2000' },
    'missed-entities': { type: 'string', default: '200' },
    stayers: { type: 'string', default: '200' },
    'recovery-rate': { type: 'string', default: '10' },
    'recovery-duration': { type: 'string', default: '5' },
    scenarios: { type: 'string', default: 'fanout,latency,connections,flood' },
    targets: { type: 'string', default: TARGETS.join(',') },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'pipeline-items': { type: 'string', default: '100000' },
    'forward-batch': { type: 'string', default: '100' },
    'source-url': { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}

/** Scenarios that compare the gateway with the reference servers; `cluster` compares the gateway with itself. */
const TARGET_SCENARIOS = ['fanout', 'latency', 'connections', 'flood', 'storm', 'idle50k'] as const;
type Scenario = (typeof TARGET_SCENARIOS)[number] | 'cluster' | 'recovery' | 'pipeline';
/** The cluster scenario's two setups: one instance without Redis, two instances over Redis. */
const CLUSTER_SETUPS = ['one', 'two'] as const;
type ClusterSetup = (typeof CLUSTER_SETUPS)[number];
const settings = {
  consumers: Number(flags.consumers),
  entities: Number(flags.entities),
  entityBytes: Number(flags['entity-bytes']),
  latencyRate: Number(flags['latency-rate']),
  durationMs: Number(flags.duration) * 1_000,
  idleConsumers: Number(flags['idle-consumers']),
  connectConcurrency: Number(flags['connect-concurrency']),
  stormConsumers: Number(flags['storm-consumers']),
  stormJitterMs: Number(flags['storm-jitter']),
  manyConsumers: Number(flags['many-consumers']),
  manyEntities: Number(flags['many-entities']),
  floodConcurrency: Number(flags['flood-concurrency']),
  floodSources: Number(flags['flood-sources']),
  rounds: Number(flags.rounds),
  connectionRounds: Number(flags['connection-rounds']),
  recoveryConsumers: Number(flags['recovery-consumers']),
  missedEntities: Number(flags['missed-entities']),
  stayers: Number(flags.stayers),
  recoveryRate: Number(flags['recovery-rate']),
  recoveryDurationMs: Number(flags['recovery-duration']) * 1_000,
  scenarios: flags.scenarios.split(',') as Scenario[],
  targets: flags.targets.split(',') as TargetName[],
  redisUrl: flags['redis-url'],
  profile: flags.profile,
  pipelineItems: Number(flags['pipeline-items']),
  forwardBatch: Number(flags['forward-batch']),
};
const unknown = settings.scenarios.filter((scenario) => ![...TARGET_SCENARIOS, 'cluster', 'recovery', 'pipeline'].includes(scenario));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; see --help`);
  process.exit(2);
}
const WARMUP_CONSUMERS = 50;
/** Open files a server or the load process needs beside its consumers' sockets (logs, database, publisher, listeners). */
const FILES_BESIDES_SOCKETS = 1_000;
/**
 * The idle50k scenario holds --many-consumers sockets in one server and in the
 * load process: the bench raises their open-file limit to that (prlimit), which
 * needs CAP_SYS_RESOURCE past the hard limit. Without it, the run holds as many
 * as the hard limit allows, and says so.
 */
const manyFileLimit = settings.manyConsumers + FILES_BESIDES_SOCKETS;
let manyFileLimitRaisable = true;
if (settings.scenarios.includes('idle50k') && manyFileLimit > hardFileLimit()) {
  manyFileLimitRaisable = raiseFileLimit(process.pid, manyFileLimit);
  if (!manyFileLimitRaisable) {
    const possible = hardFileLimit() - FILES_BESIDES_SOCKETS;
    console.log(
      `idle50k: ${settings.manyConsumers} sockets in one process need an open-file limit of ${manyFileLimit}; the hard limit here is ` +
        `${hardFileLimit()} and cannot be raised (no CAP_SYS_RESOURCE): the run holds ${possible} idle consumers instead`,
    );
    settings.manyConsumers = possible;
  }
}
/**
 * How long the recovery scenario's consumers stay away, at least, from their
 * last handshake to the storm: longer than the gateway keeps an accepted token
 * in memory (5 s), so that both storms, plain and recovering, read every token
 * from the database, as a storm after an outage does, and neither is favoured.
 */
const RECOVERY_AWAY_MS = 6_000;
const RECOVERY_WARMUP_MS = 1_000;
const FANOUT_IN_FLIGHT = 32;

const databaseUrl = process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL) : undefined;
if (settings.scenarios.includes('cluster') && !databaseUrl) {
  console.error(
    'The cluster scenario needs DATABASE_URL: its experience-api instances must share one Postgres (PGlite serves one process only,\n' +
      'and experience-api refuses REDIS_URL without DATABASE_URL). Give the bench a database of its own, e.g.\n' +
      '  createdb -h 127.0.0.1 -U postgres bench; DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench npm run bench -- --scenarios cluster\n' +
      'or leave cluster out of --scenarios.',
  );
  process.exit(2);
}
const runTag = `bench-${Date.now().toString(36)}`;
const runDir = resolve('bench/results', runTag);
const pgliteDataDir = join(tmpdir(), `${runTag}-pglite`);
const consumersFile = join(runDir, 'consumers.txt');
mkdirSync(runDir, { recursive: true });

const log = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Hands out slices of the seeded consumers: each gateway run gets clients no earlier run has claimed. */
class ConsumerPool {
  private next = 0;
  take(count: number): number {
    const from = this.next;
    this.next += count;
    return from;
  }
  get size(): number {
    return this.next;
  }
}

class LoadProcess {
  private readonly child: ChildProcess;
  private waiting?: (reply: LoadReply) => void;

  constructor() {
    this.child = fork(resolve('dist/bench/load/load.js'), [consumersFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (reply: LoadReply) => this.waiting?.(reply));
    this.child.on('exit', (code) => {
      if (this.waiting) this.waiting({ ok: false, error: `load process exited (${code})` });
    });
  }

  async send<T>(command: LoadCommand): Promise<T> {
    const reply = await new Promise<LoadReply>((done) => {
      this.waiting = done;
      this.child.send(command);
    });
    this.waiting = undefined;
    if (!reply.ok) throw new Error(reply.error);
    return reply.result as T;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async exit(): Promise<void> {
    await this.send({ cmd: 'exit' }).catch(() => undefined);
  }
}

/** Rotates the order of the targets each round, so no target always runs first or last. */
function alternate<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

interface Runs {
  fanout: Record<string, Array<{ connect: ConnectReport; fanout: FanoutReport }>>;
  latency: Record<string, Array<{ connect: ConnectReport; latency: LatencyReport }>>;
  connections: Record<
    string,
    Array<{ warmup: ConnectReport; connect: ConnectReport; rssBeforeBytes: number; rssAfterBytes: number; kbPerConsumer: number; heapKbPerConsumer?: number }>
  >;
  flood: Record<string, Array<{ connect: ConnectReport; latency: LatencyReport; flood: FloodReport; crashed: boolean }>>;
  storm: Record<string, Array<{ connect: ConnectReport; storm: StormReport }>>;
  idle50k: Record<string, Array<{ connect: ConnectReport; kbPerConsumer: number; fanout: FanoutReport }>>;
  cluster: Record<ClusterSetup, Array<{ fanoutConnect: ConnectReport; fanout: FanoutReport; latencyConnect: ConnectReport; latency: LatencyReport }>>;
  recovery: Array<{ quiet: RecoveryPhaseReport; plain: RecoveryPhaseReport; recover: RecoveryPhaseReport; away: RecoveryAwayReport[] }>;
  pipeline: PipelineReport[];
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const loadBefore = loadavg();
  const runs: Runs = {
    fanout: {},
    latency: {},
    connections: {},
    flood: {},
    storm: {},
    idle50k: {},
    cluster: { one: [], two: [] },
    recovery: [],
    pipeline: [],
  };
  const profiles: Record<string, unknown> = {};
  for (const target of settings.targets) for (const scenario of TARGET_SCENARIOS) runs[scenario][target] = [];

  const has = (scenario: Scenario) => settings.scenarios.includes(scenario);
  const pool = new ConsumerPool();
  const seeded =
    (has('fanout') ? settings.rounds * settings.consumers : 0) +
    (has('latency') || has('flood') ? settings.rounds * settings.consumers : 0) +
    (has('flood') ? settings.rounds * settings.consumers : 0) +
    (has('connections') ? settings.connectionRounds * (settings.idleConsumers + WARMUP_CONSUMERS) : 0) +
    (has('storm') ? settings.connectionRounds * settings.stormConsumers : 0) +
    (has('idle50k') ? settings.manyConsumers + WARMUP_CONSUMERS : 0) +
    (has('cluster') ? settings.rounds * CLUSTER_SETUPS.length * 2 * settings.consumers : 0) +
    (has('recovery') ? settings.stayers + settings.recoveryConsumers : 0);
  // the cluster instances' keys, all under a prefix of the run's own, deleted at the end
  const redisKeyPrefix = `push-gateway-bench:${runTag}:`;
  if (has('cluster')) {
    await checkRedis(settings.redisUrl).catch((error: Error) => {
      throw new Error(`the cluster scenario needs a Redis: ${withoutPassword(new URL(settings.redisUrl))} did not answer (${error.message}); see --redis-url`);
    });
  }

  const mail = await MailSink.start();
  const started = new Set<RunningTarget>();
  const startTarget = async (name: TargetName, label: string, cluster: Pick<TargetOptions, 'adminToken' | 'redis' | 'fileLimit'> = {}) => {
    const target = await RunningTarget.start(name, {
      consumersFile,
      runDir,
      databaseUrl,
      pgliteDataDir,
      smtpUrl: mail.url,
      profile: settings.profile,
      label,
      ...cluster,
    });
    started.add(target);
    return target;
  };

  log(`run ${runTag}: ${databaseUrl ? 'Postgres (DATABASE_URL)' : 'PGlite'}; seeding ${seeded} registered consumers (not timed)`);
  // the gateway's first start applies its migrations; the seed then writes into its schema
  await (await RunningTarget.start('gateway', { consumersFile, runDir, databaseUrl, pgliteDataDir, profile: false, label: 'migrate' })).stop();
  await seedConsumers({ databaseUrl, pgliteDataDir, prefix: runTag, count: seeded, consumersFile });
  const load = new LoadProcess();
  // tens of thousands of sockets on each side: the bench's processes alone get the open-file limit for them
  if (has('idle50k') && manyFileLimitRaisable) raiseFileLimit(load.pid, manyFileLimit);
  /** Runs `phase`, each target CPU-profiled as `label` (one target) or `<label>-<target label>` (several) when --profile is given. */
  const profiled = async <T>(targets: readonly RunningTarget[], label: string, phase: () => Promise<T>): Promise<T> => {
    for (const target of targets) await target.startProfile();
    const result = await phase();
    for (const target of targets) {
      const name = targets.length === 1 ? label : `${label}-${target.label}`;
      const file = await target.stopProfile(name);
      if (file) profiles[name] = summariseProfile(file, 25);
    }
    return result;
  };
  /** Connects `settings.consumers` consumers from `from` on, dealt in turn over `targets`; later runs publish to the first target. */
  const connectTo = (targets: readonly RunningTarget[], from: number) =>
    load.send<ConnectReport>({
      cmd: 'connect',
      endpoint: targets[0].endpoint,
      others: targets.slice(1).map((target) => target.endpoint),
      path: targets[0].path,
      from,
      count: settings.consumers,
      concurrency: settings.connectConcurrency,
    });
  /** Closes the consumers and waits until every target has let go of them. */
  const disconnect = async (targets: readonly RunningTarget[]) => {
    await load.send({ cmd: 'disconnect' });
    for (const target of targets) await target.settle();
  };
  const fanoutRun = async (targets: readonly RunningTarget[], from: number, idPrefix: string, label: string) => {
    const connect = await connectTo(targets, from);
    const fanout = await profiled(targets, label, () =>
      load.send<FanoutReport>({ cmd: 'fanout', entities: settings.entities, inFlight: FANOUT_IN_FLIGHT, idPrefix, entityBytes: settings.entityBytes }),
    );
    return { connect, fanout };
  };
  const entitiesPerSecond = settings.latencyRate / settings.consumers;
  const latencyRun = async (targets: readonly RunningTarget[], from: number, idPrefix: string, label: string) => {
    const connect = await profiled(targets, `${label}-connect`, () => connectTo(targets, from));
    const latency = await profiled(targets, `${label}-publish`, () =>
      load.send<LatencyReport>({
        cmd: 'latency',
        entitiesPerSecond,
        durationMs: settings.durationMs,
        warmupMs: 1_000,
        idPrefix,
        entityBytes: settings.entityBytes,
      }),
    );
    return { connect, latency };
  };
  const fanoutSummary = (fanout: FanoutReport) =>
    `${fanout.delivered}/${fanout.expected} deliveries in ${round(fanout.elapsedMs, 0)} ms = ${round(fanout.deliveriesPerSecond, 0)}/s` +
    (fanout.accepted < fanout.entities ? ` (${fanout.entities - fanout.accepted} entities refused: ${JSON.stringify(fanout.publishErrors)})` : '');
  const latencySummary = ({ connect, latency }: { connect: ConnectReport; latency: LatencyReport }) =>
    `connect p99 ${round(connect.connectMs.p99)} ms; ${round(latency.deliveriesPerSecond, 0)} deliveries/s, ` +
    `p50 ${round(latency.latencyMs.p50)} ms, p99 ${round(latency.latencyMs.p99)} ms, max ${round(latency.latencyMs.max)} ms` +
    (latency.accepted < latency.sent ? ` (${latency.sent - latency.accepted} entities refused)` : '');

  try {
    if (has('connections')) {
      for (let pass = 0; pass < settings.connectionRounds; pass++) {
        const from = pool.take(settings.idleConsumers + WARMUP_CONSUMERS);
        for (const name of alternate(settings.targets, pass)) {
          const label = `connections-${pass}-${name}`;
          const target = await startTarget(name, label);
          const warmup = await load.send<ConnectReport>({
            cmd: 'connect',
            endpoint: target.endpoint,
            path: target.path,
            from,
            count: WARMUP_CONSUMERS,
            concurrency: 10,
          });
          await load.send({ cmd: 'disconnect' });
          await target.settle();
          await target.heapSnapshot(`${label}-before`);
          const heapBeforeBytes = await target.heapUsedAfterGc();
          const rssBeforeBytes = target.rssBytes();
          const connect = await profiled([target], `${label}-connect`, () =>
            load.send<ConnectReport>({
              cmd: 'connect',
              endpoint: target.endpoint,
              path: target.path,
              from: from + WARMUP_CONSUMERS,
              count: settings.idleConsumers,
              concurrency: settings.connectConcurrency,
            }),
          );
          await sleep(3_000);
          const rssAfterBytes = target.rssBytes();
          const kbPerConsumer = (rssAfterBytes - rssBeforeBytes) / 1024 / connect.connected;
          const heapAfterBytes = await target.heapUsedAfterGc();
          const heapKbPerConsumer =
            heapBeforeBytes === undefined || heapAfterBytes === undefined ? undefined : (heapAfterBytes - heapBeforeBytes) / 1024 / connect.connected;
          log(
            `connections ${name}: ${connect.connected} connected at ${round(connect.perSecond, 0)}/s, p99 ${round(connect.connectMs.p99)} ms; ` +
              `RSS +${round(kbPerConsumer)} KB per consumer` +
              (heapKbPerConsumer === undefined ? '' : ` (heap held after GC +${round(heapKbPerConsumer)} KB)`),
          );
          runs.connections[name].push({ warmup, connect, rssBeforeBytes, rssAfterBytes, kbPerConsumer, heapKbPerConsumer });
          await target.heapSnapshot(label);
          await disconnect([target]);
          await target.stop();
        }
      }
    }

    if (has('storm')) {
      for (let pass = 0; pass < settings.connectionRounds; pass++) {
        const from = pool.take(settings.stormConsumers);
        for (const name of alternate(settings.targets, pass)) {
          const label = `storm-${pass}-${name}`;
          const target = await startTarget(name, label);
          const connect = await load.send<ConnectReport>({
            cmd: 'connect',
            endpoint: target.endpoint,
            path: target.path,
            from,
            count: settings.stormConsumers,
            concurrency: settings.connectConcurrency,
          });
          await target.settle(60_000, connect.connected);
          // tokens read in the first connect are no longer in the gateway's cache (5 s), as after an outage
          await sleep(6_000);
          const storm = await profiled([target], label, () =>
            load.send<StormReport>({ cmd: 'storm', drop: target.dropRequest(), jitterMs: settings.stormJitterMs }),
          );
          log(
            `storm ${name}: ${storm.back}/${storm.consumers} back in ${round(storm.elapsedMs, 0)} ms (p50 ${round(storm.backMs.p50, 0)} ms, ` +
              `p99 ${round(storm.backMs.p99, 0)} ms after the drop); retried ${JSON.stringify(storm.retried)}`,
          );
          runs.storm[name].push({ connect, storm });
          await disconnect([target]);
          await target.stop();
        }
      }
    }

    if (has('idle50k')) {
      const from = pool.take(settings.manyConsumers + WARMUP_CONSUMERS);
      for (const name of settings.targets) {
        const label = `idle50k-${name}`;
        const target = await startTarget(name, label, manyFileLimitRaisable ? { fileLimit: manyFileLimit } : {});
        await load.send<ConnectReport>({ cmd: 'connect', endpoint: target.endpoint, path: target.path, from, count: WARMUP_CONSUMERS, concurrency: 10 });
        await load.send({ cmd: 'disconnect' });
        await target.settle();
        const rssBeforeBytes = target.rssBytes();
        const connect = await load.send<ConnectReport>({
          cmd: 'connect',
          endpoint: target.endpoint,
          path: target.path,
          from: from + WARMUP_CONSUMERS,
          count: settings.manyConsumers,
          concurrency: settings.connectConcurrency,
        });
        await sleep(3_000);
        const kbPerConsumer = (target.rssBytes() - rssBeforeBytes) / 1024 / connect.connected;
        const fanout = await profiled([target], `${label}-fanout`, () =>
          load.send<FanoutReport>({
            cmd: 'fanout',
            entities: settings.manyEntities,
            inFlight: FANOUT_IN_FLIGHT,
            idPrefix: `${runTag}-m-${name}`,
            entityBytes: settings.entityBytes,
          }),
        );
        log(
          `idle50k ${name}: ${connect.connected} connected at ${round(connect.perSecond, 0)}/s (refused ${JSON.stringify(connect.refused)}); ` +
            `RSS +${round(kbPerConsumer)} KB per consumer; fan-out ${fanoutSummary(fanout)}`,
        );
        runs.idle50k[name].push({ connect, kbPerConsumer, fanout });
        await disconnect([target]);
        await target.stop();
      }
    }

    const shared = new Map<TargetName, RunningTarget>();
    if (has('fanout') || has('latency') || has('flood')) {
      for (const name of settings.targets) shared.set(name, await startTarget(name, `shared-${name}`));
    }

    if (has('fanout')) {
      for (let pass = 0; pass < settings.rounds; pass++) {
        const from = pool.take(settings.consumers);
        for (const name of alternate(settings.targets, pass)) {
          const target = shared.get(name)!;
          const { connect, fanout } = await fanoutRun([target], from, `${runTag}-f${pass}-${name}`, `fanout-${pass}-${name}`);
          log(`fanout ${name}: ${fanoutSummary(fanout)}`);
          runs.fanout[name].push({ connect, fanout });
          await disconnect([target]);
        }
      }
    }

    // a flooded run is judged against a run without flood right next to it: the latency runs serve as those
    if (has('latency') || has('flood')) {
      for (let pass = 0; pass < settings.rounds; pass++) {
        const fromPlain = pool.take(settings.consumers);
        const fromFlooded = has('flood') ? pool.take(settings.consumers) : -1;
        for (const name of alternate(settings.targets, pass)) {
          const target = shared.get(name)!;
          const variants = !has('flood') ? [false] : pass % 2 === 0 ? [false, true] : [true, false];
          for (const flooded of variants) {
            if (flooded) {
              await load.send({
                cmd: 'flood-start',
                endpoint: target.endpoint,
                path: target.path,
                concurrency: settings.floodConcurrency,
                sources: settings.floodSources,
                knownFrom: fromFlooded,
                knownCount: settings.consumers,
              });
              await sleep(1_000);
            }
            const result = await latencyRun(
              [target],
              flooded ? fromFlooded : fromPlain,
              `${runTag}-${flooded ? 'x' : 'l'}${pass}-${name}`,
              `${flooded ? 'flood' : 'latency'}-${pass}-${name}`,
            );
            const summary = latencySummary(result);
            if (flooded) {
              const flood = await load.send<FloodReport>({ cmd: 'flood-stop' });
              const crashed = !target.alive;
              log(`flood ${name} (${round(flood.perSecond, 0)} bogus handshakes/s): ${summary}`);
              runs.flood[name].push({ ...result, flood, crashed });
              if (crashed) throw new Error(`${name} crashed during the flood (exit ${target.exitCode})`);
            } else {
              log(`latency ${name}: ${summary}`);
              runs.latency[name].push(result);
            }
            await disconnect([target]);
          }
        }
      }
    }

    for (const target of shared.values()) await target.stop();

    if (has('cluster')) {
      const adminToken = randomBytes(24).toString('base64url');
      const redis = { url: settings.redisUrl, keyPrefix: redisKeyPrefix };
      const setups: Record<ClusterSetup, RunningTarget[]> = {
        one: [await startTarget('gateway', 'cluster-one')],
        two: [await startTarget('gateway', 'cluster-two-a', { adminToken, redis }), await startTarget('gateway', 'cluster-two-b', { adminToken, redis })],
      };
      log(
        `cluster: ${settings.consumers} consumers each run; two instances over ${withoutPassword(new URL(settings.redisUrl))} (keys under ${redisKeyPrefix}), ` +
          'consumers dealt alternately over both, every POST /entity to the first; against one instance without Redis',
      );
      const setupNames: Record<ClusterSetup, string> = { one: 'one instance', two: 'two instances' };
      for (let pass = 0; pass < settings.rounds; pass++) {
        for (const setup of alternate(CLUSTER_SETUPS, pass)) {
          const targets = setups[setup];
          const fanout = await fanoutRun(targets, pool.take(settings.consumers), `${runTag}-cf${pass}-${setup}`, `cluster-fanout-${pass}-${setup}`);
          log(`cluster fanout, ${setupNames[setup]}: ${fanoutSummary(fanout.fanout)}`);
          await disconnect(targets);
          const latency = await latencyRun(targets, pool.take(settings.consumers), `${runTag}-cl${pass}-${setup}`, `cluster-latency-${pass}-${setup}`);
          log(`cluster latency, ${setupNames[setup]}: ${latencySummary(latency)}`);
          await disconnect(targets);
          runs.cluster[setup].push({ fanoutConnect: fanout.connect, fanout: fanout.fanout, latencyConnect: latency.connect, latency: latency.latency });
          const dead = targets.filter((target) => !target.alive);
          if (dead.length > 0)
            throw new Error(`${dead.map((target) => target.label).join(', ')} exited during the cluster scenario; see the logs in ${runDir}`);
        }
      }
      for (const target of [...setups.one, ...setups.two]) await target.stop();
    }

    if (has('recovery')) {
      const target = await startTarget('gateway', 'recovery');
      // the same consumers every round: the stayers stay, the others leave and come back
      const stayersFrom = pool.take(settings.stayers);
      const stormFrom = pool.take(settings.recoveryConsumers);
      log(
        `recovery: ${settings.recoveryConsumers} consumers leave, ${settings.missedEntities} entities are published, they all reconnect at once ` +
          `(plain, or with last_seq); ${settings.stayers} stay connected, timed at ${settings.recoveryRate} entities/s`,
      );
      let lastHandshakesAt = 0;
      const phase = async (mode: RecoveryPhaseReport['mode'], pass: number, awayHighestSeq: number) => {
        if (mode !== 'quiet') await sleep(lastHandshakesAt + RECOVERY_AWAY_MS - RECOVERY_WARMUP_MS - Date.now());
        const report = await profiled([target], `recovery-${pass}-${mode}`, () =>
          load.send<RecoveryPhaseReport>({
            cmd: 'recovery-phase',
            mode,
            entitiesPerSecond: settings.recoveryRate,
            warmupMs: RECOVERY_WARMUP_MS,
            durationMs: settings.recoveryDurationMs,
            idPrefix: `${runTag}-r${pass}-${mode}`,
            entityBytes: settings.entityBytes,
            awayHighestSeq,
          }),
        );
        if (mode !== 'quiet') lastHandshakesAt = Date.now();
        return report;
      };
      for (let pass = 0; pass < settings.rounds; pass++) {
        await load.send({
          cmd: 'recovery-connect',
          endpoint: target.endpoint,
          path: target.path,
          stayersFrom,
          stayers: settings.stayers,
          stormFrom,
          consumers: settings.recoveryConsumers,
          concurrency: settings.connectConcurrency,
        });
        lastHandshakesAt = Date.now();
        await target.settle(60_000, settings.stayers + settings.recoveryConsumers);
        const quiet = await phase('quiet', pass, 0);
        log(`recovery quiet: ${recoveryLiveSummary(quiet)}`);
        const result: Partial<Record<'plain' | 'recover', RecoveryPhaseReport>> = {};
        const away: RecoveryAwayReport[] = [];
        for (const mode of alternate(['plain', 'recover'] as const, pass)) {
          await load.send({ cmd: 'recovery-leave' });
          await target.settle(60_000, settings.stayers);
          const published = await load.send<RecoveryAwayReport>({
            cmd: 'recovery-away',
            entities: settings.missedEntities,
            inFlight: FANOUT_IN_FLIGHT,
            idPrefix: `${runTag}-r${pass}-${mode}-away`,
            entityBytes: settings.entityBytes,
          });
          away.push(published);
          if (published.accepted < published.entities) log(`recovery: ${published.entities - published.accepted} entities refused while away`);
          result[mode] = await phase(mode, pass, published.highestSeq);
          log(`recovery ${mode}: ${recoveryStormSummary(result[mode])}; live: ${recoveryLiveSummary(result[mode])}`);
        }
        runs.recovery.push({ quiet, plain: result.plain!, recover: result.recover!, away });
        await load.send({ cmd: 'recovery-leave' });
        await target.settle(60_000, settings.stayers);
        if (!target.alive) throw new Error(`the gateway exited during the recovery scenario; see ${runDir}/recovery.log`);
      }
      await load.send({ cmd: 'recovery-end' });
      await target.stop();
    }

    if (has('pipeline')) {
      runs.pipeline = await runPipeline({
        items: settings.pipelineItems,
        forwardBatch: settings.forwardBatch,
        sourceUrl: new URL(flags['source-url'] ?? databaseUrl?.toString() ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
        databaseUrl,
        runDir,
        runTag,
        timeoutMs: 600_000,
        log,
      });
    }
  } finally {
    // a run that failed half-way leaves no server behind
    for (const target of started) await target.stop();
    await load.exit();
    await sleep(500);
    await mail.close();
    if (databaseUrl) await removeSeeded(databaseUrl, runTag).catch((error: Error) => log(`could not remove the seeded clients: ${error.message}`));
    else rmSync(pgliteDataDir, { recursive: true, force: true });
    rmSync(consumersFile, { force: true });
    if (has('cluster')) {
      await removeKeys(settings.redisUrl, redisKeyPrefix).catch((error: Error) =>
        log(`could not remove the Redis keys under ${redisKeyPrefix}: ${error.message}`),
      );
    }
  }

  const summary = summarise(runs, mail.subjects);
  const clusterSummary = summariseCluster(runs.cluster);
  const recoverySummary = summariseRecovery(runs.recovery);
  const loadAverage = { before: loadBefore.map((value) => round(value)), after: loadavg().map((value) => round(value)) };
  const report = {
    run: runTag,
    command: `${databaseUrl ? `DATABASE_URL=${withoutPassword(databaseUrl)} ` : ''}npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    database: databaseUrl ? 'postgres' : 'pglite',
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version, loadAverage },
    commit: gitCommit(),
    settings: { ...settings, redisUrl: withoutPassword(new URL(settings.redisUrl)) },
    cluster: has('cluster') ? { redisKeyPrefix, publishesTo: 'the first instance', consumers: 'dealt alternately over both instances' } : undefined,
    durationSeconds: round((Date.now() - startedAt) / 1_000, 0),
    summary,
    clusterSummary,
    recoverySummary,
    mails: mail.subjects,
    profiles,
    runs,
  };
  const file = join(runDir, 'results.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${report.command}  (database: ${report.database})`);
  console.log(`load average (1, 5, 15 min) before: ${loadAverage.before.join(', ')}; after: ${loadAverage.after.join(', ')}`);
  if (summary.length > 0) printTable(summary);
  if (clusterSummary.length > 0) {
    console.log(
      `\ncluster: two experience-api instances over Redis (consumers dealt alternately over both, every POST /entity to the first) ` +
        `against one instance without Redis, both on the same Postgres`,
    );
    printClusterTable(clusterSummary);
  }
  if (recoverySummary.length > 0) {
    console.log(
      `\nrecovery: ${settings.recoveryConsumers} consumers leave, ${settings.missedEntities} entities are published, they all reconnect at once; ` +
        `${settings.stayers} others stay connected, timed at ${settings.recoveryRate} entities/s. baseline: plain reconnect (storm), no storm (live)`,
    );
    printRecoveryTable(recoverySummary);
  }
  if (runs.pipeline.length > 0) {
    console.log(
      `\npipeline: system-api's sources -> POST /entities -> one consumer, ${settings.pipelineItems} items each, FORWARD_BATCH ${settings.forwardBatch}`,
    );
    printPipelineTable(runs.pipeline);
  }
  console.log(`\nraw figures: ${file}`);
}

function withoutPassword(url: URL): string {
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return shown.toString();
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

interface Row {
  readonly metric: string;
  readonly values: Partial<Record<TargetName, number>>;
  /** Higher is better (throughput) or lower (latency, memory). */
  readonly better: 'higher' | 'lower';
  readonly target?: string;
  readonly met?: boolean;
  readonly digits?: number;
}

function summarise(runs: Runs, mails: string[]) {
  const per = <T>(scenario: Record<string, T[]>, pick: (run: T) => number) =>
    Object.fromEntries(
      Object.entries(scenario)
        .filter(([, list]) => list.length > 0)
        .map(([name, list]) => [name, median(list.map(pick))]),
    ) as Partial<Record<TargetName, number>>;
  const rows: Row[] = [];
  const ratio = (values: Partial<Record<TargetName, number>>, other: TargetName) => (values.gateway ?? Number.NaN) / (values[other] ?? Number.NaN);

  if (Object.values(runs.fanout).some((list) => list.length > 0)) {
    const values = per(runs.fanout, (run) => run.fanout.deliveriesPerSecond);
    rows.push({
      metric: `fan-out deliveries/s (${settings.consumers} consumers x ${settings.entities} entities)`,
      values,
      better: 'higher',
      digits: 0,
      target: '>= 1.0x ws, >= 1.5x socketio',
      met: ratio(values, 'ws') >= 1.0 && ratio(values, 'socketio') >= 1.5,
    });
    rows.push({
      metric: 'fan-out deliveries missing',
      values: per(runs.fanout, (run) => run.fanout.expected - run.fanout.delivered),
      better: 'lower',
      digits: 0,
    });
  }
  if (Object.values(runs.latency).some((list) => list.length > 0)) {
    const label = `at ${settings.latencyRate} deliveries/s`;
    rows.push({ metric: `latency p50 ms ${label}`, values: per(runs.latency, (run) => run.latency.latencyMs.p50), better: 'lower' });
    const p99 = per(runs.latency, (run) => run.latency.latencyMs.p99);
    rows.push({ metric: `latency p99 ms ${label}`, values: p99, better: 'lower', target: '<= 1.2x ws', met: ratio(p99, 'ws') <= 1.2 });
    rows.push({ metric: `latency max ms ${label}`, values: per(runs.latency, (run) => run.latency.latencyMs.max), better: 'lower' });
  }
  if (Object.values(runs.connections).some((list) => list.length > 0)) {
    const rate = per(runs.connections, (run) => run.connect.perSecond);
    rows.push({
      metric: `connects/s (${settings.idleConsumers} consumers, tokens checked)`,
      values: rate,
      better: 'higher',
      digits: 0,
      target: '>= 1000/s on Postgres, >= 0.6x ws',
      met: (rate.gateway ?? 0) >= 1_000 && ratio(rate, 'ws') >= 0.6,
    });
    rows.push({ metric: 'connect p99 ms', values: per(runs.connections, (run) => run.connect.connectMs.p99), better: 'lower' });
    const kb = per(runs.connections, (run) => run.kbPerConsumer);
    rows.push({
      metric: `RSS KB per idle consumer at ${settings.idleConsumers}`,
      values: kb,
      better: 'lower',
      target: '<= 10 KB',
      met: (kb.gateway ?? Infinity) <= 10,
    });
  }
  if (Object.values(runs.storm).some((list) => list.length > 0)) {
    const elapsed = per(runs.storm, (run) => run.storm.elapsedMs);
    rows.push({
      metric: `storm: ms until all ${settings.stormConsumers} back (dropped at once, jitter ${settings.stormJitterMs} ms)`,
      values: elapsed,
      better: 'lower',
      digits: 0,
      target: '<= 2.0x ws, all back',
      met: ratio(elapsed, 'ws') <= 2,
    });
    rows.push({ metric: 'storm: p50 ms after the drop until back', values: per(runs.storm, (run) => run.storm.backMs.p50), better: 'lower', digits: 0 });
    rows.push({
      metric: 'storm: reconnects refused and retried',
      values: per(runs.storm, (run) => Object.values(run.storm.retried).reduce((total, count) => total + count, 0)),
      better: 'lower',
      digits: 0,
    });
  }
  if (Object.values(runs.idle50k).some((list) => list.length > 0)) {
    const kb = per(runs.idle50k, (run) => run.kbPerConsumer);
    rows.push({
      metric: `RSS KB per idle consumer at ${settings.manyConsumers}`,
      values: kb,
      better: 'lower',
      target: '<= 1.2x ws',
      met: ratio(kb, 'ws') <= 1.2,
    });
    rows.push({
      metric: `connects/s (${settings.manyConsumers} consumers)`,
      values: per(runs.idle50k, (run) => run.connect.perSecond),
      better: 'higher',
      digits: 0,
    });
    const rate = per(runs.idle50k, (run) => run.fanout.deliveriesPerSecond);
    rows.push({
      metric: `fan-out deliveries/s (${settings.manyConsumers} consumers x ${settings.manyEntities} entities)`,
      values: rate,
      better: 'higher',
      digits: 0,
      target: '>= 1.0x ws, none missing',
      met: ratio(rate, 'ws') >= 1 && (runs.idle50k.gateway ?? []).every((run) => run.fanout.delivered >= run.fanout.expected),
    });
    rows.push({
      metric: `fan-out deliveries missing at ${settings.manyConsumers}`,
      values: per(runs.idle50k, (run) => run.fanout.expected - run.fanout.delivered),
      better: 'lower',
      digits: 0,
    });
  }
  if (Object.values(runs.flood).some((list) => list.length > 0)) {
    const connectPlain = per(runs.latency, (run) => run.connect.connectMs.p99);
    const connectFlooded = per(runs.flood, (run) => run.connect.connectMs.p99);
    const deliveryPlain = per(runs.latency, (run) => run.latency.latencyMs.p99);
    const deliveryFlooded = per(runs.flood, (run) => run.latency.latencyMs.p99);
    const within = (flooded: Partial<Record<TargetName, number>>, plain: Partial<Record<TargetName, number>>) =>
      Object.fromEntries(settings.targets.map((name) => [name, (flooded[name] ?? Number.NaN) / (plain[name] ?? Number.NaN)])) as Partial<
        Record<TargetName, number>
      >;
    const connectGrowth = within(connectFlooded, connectPlain);
    const deliveryGrowth = within(deliveryFlooded, deliveryPlain);
    rows.push({ metric: 'flood: bogus handshakes/s made', values: per(runs.flood, (run) => run.flood.perSecond), better: 'higher', digits: 0 });
    rows.push({ metric: 'flood: legit connect p99 ms, no flood', values: connectPlain, better: 'lower' });
    rows.push({ metric: 'flood: legit connect p99 ms, flooded', values: connectFlooded, better: 'lower' });
    rows.push({
      metric: 'flood: connect p99 flooded / no flood',
      values: connectGrowth,
      better: 'lower',
      target: 'gateway <= 2.0',
      met: (connectGrowth.gateway ?? Infinity) <= 2,
    });
    rows.push({ metric: 'flood: delivery p99 ms, no flood', values: deliveryPlain, better: 'lower' });
    rows.push({ metric: 'flood: delivery p99 ms, flooded', values: deliveryFlooded, better: 'lower' });
    rows.push({
      metric: 'flood: delivery p99 flooded / no flood',
      values: deliveryGrowth,
      better: 'lower',
      target: 'gateway <= 1.5',
      met: (deliveryGrowth.gateway ?? Infinity) <= 1.5,
    });
    const crashed = (runs.flood.gateway ?? []).some((run) => run.crashed);
    rows.push({
      metric: 'flood: gateway crashed / alert mails received',
      values: { gateway: crashed ? 1 : 0 },
      better: 'lower',
      digits: 0,
      target: `no crash, no mail flood (mails: ${mails.length})`,
      met: !crashed && mails.length <= 5,
    });
  }
  return rows;
}

interface ClusterRow {
  readonly metric: string;
  readonly one: number;
  readonly two: number;
  /** two / one */
  readonly ratio: number;
  readonly target?: string;
  readonly met?: boolean;
  readonly digits?: number;
}

/** Medians over the rounds of each setup, and the ratios two instances / one instance. */
function summariseCluster(runs: Runs['cluster']): ClusterRow[] {
  if (runs.one.length === 0 && runs.two.length === 0) return [];
  type Run = Runs['cluster'][ClusterSetup][number];
  const row = (metric: string, pick: (run: Run) => number, extra: { digits?: number; target?: string; met?: (ratio: number) => boolean } = {}): ClusterRow => {
    const one = median(runs.one.map(pick));
    const two = median(runs.two.map(pick));
    const ratio = two / one;
    return { metric, one, two, ratio, digits: extra.digits, target: extra.target, met: extra.met?.(ratio) };
  };
  const rate = `at ${settings.latencyRate} deliveries/s`;
  // a setup that loses deliveries would look fast: a target is met only when every run of both delivered everything
  const complete = (pick: (run: Run) => { expected: number; delivered: number }) =>
    [...runs.one, ...runs.two].every((run) => pick(run).delivered >= pick(run).expected);
  return [
    row(`fan-out deliveries/s (${settings.consumers} consumers x ${settings.entities} entities)`, (run) => run.fanout.deliveriesPerSecond, {
      digits: 0,
      target: 'two/one >= 0.8, none missing',
      met: (ratio) => ratio >= 0.8 && complete((run) => run.fanout),
    }),
    row('fan-out deliveries missing', (run) => run.fanout.expected - run.fanout.delivered, { digits: 0 }),
    row(`latency p50 ms ${rate}`, (run) => run.latency.latencyMs.p50),
    row(`latency p99 ms ${rate}`, (run) => run.latency.latencyMs.p99, {
      target: 'two/one <= 1.3, none missing',
      met: (ratio) => ratio <= 1.3 && complete((run) => run.latency),
    }),
    row(`latency max ms ${rate}`, (run) => run.latency.latencyMs.max),
    row('latency deliveries missing', (run) => run.latency.expected - run.latency.delivered, { digits: 0 }),
    row('connect p99 ms (latency runs)', (run) => run.latencyConnect.connectMs.p99),
    row('entities refused (not 202), per round', (run) => run.fanout.entities - run.fanout.accepted + (run.latency.sent - run.latency.accepted), { digits: 0 }),
  ];
}

function recoveryStormSummary(report: RecoveryPhaseReport): string {
  const storm = report.storm!;
  const failures = Object.entries(storm.failures);
  return (
    `${storm.caughtUp}/${storm.consumers} caught up` +
    (storm.caughtUp === storm.consumers ? ` in ${round(storm.elapsedMs, 0)} ms` : '') +
    (storm.missed && storm.caughtUp > 0 ? `, missed ${storm.missed.min}..${storm.missed.max} each` : '') +
    (failures.length > 0 ? `; FAILED ${JSON.stringify(storm.failures)}` : '') +
    (storm.mismatchedFrames > 0
      ? `; ${storm.mismatchedFrames} frames out of place at ${storm.consumersWithMismatches} consumers, e.g. ${storm.firstMismatches[0]}`
      : '')
  );
}

function recoveryLiveSummary(report: RecoveryPhaseReport): string {
  const { live } = report;
  return (
    `p50 ${round(live.latencyMs.p50)} ms, p99 ${round(live.latencyMs.p99)} ms; during the storm p99 ${round(live.duringStormMs.p99)} ms (${live.duringStormMs.count} deliveries)` +
    (live.delivered < live.expected ? `; ${live.expected - live.delivered} deliveries missing` : '') +
    (live.accepted < live.sent ? `; ${live.sent - live.accepted} entities refused` : '')
  );
}

interface RecoveryRow {
  readonly metric: string;
  readonly baseline?: number;
  readonly measured: number;
  readonly target?: string;
  readonly met?: boolean;
  readonly digits?: number;
}

/** Medians over the rounds (errors: totals), and the ratios measured / baseline. */
function summariseRecovery(runs: Runs['recovery']): RecoveryRow[] {
  if (runs.length === 0) return [];
  type Run = Runs['recovery'][number];
  const mid = (pick: (run: Run) => number) => median(runs.map(pick));
  const sum = (pick: (run: Run) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const failed = (report: RecoveryPhaseReport) => Object.values(report.storm!.failures).reduce((total, count) => total + count, 0);
  const missing = (report: RecoveryPhaseReport) => report.live.expected - report.live.delivered;
  const recoverErrors = sum((run) => failed(run.recover) + run.recover.storm!.mismatchedFrames);
  const plainErrors = sum((run) => failed(run.plain) + run.plain.storm!.mismatchedFrames);
  const liveMissing = sum((run) => missing(run.quiet) + missing(run.plain) + missing(run.recover));
  const stormPlain = mid((run) => run.plain.storm!.elapsedMs);
  const stormRecover = mid((run) => run.recover.storm!.elapsedMs);
  const p99Quiet = mid((run) => run.quiet.live.latencyMs.p99);
  const p99Recover = mid((run) => run.recover.live.duringStormMs.p99);
  const live = `${settings.stayers} connected consumers at ${settings.recoveryRate}/s`;
  return [
    {
      metric: `storm ms until all caught up (${settings.recoveryConsumers} consumers, ${settings.missedEntities}+ missed): plain -> recovery`,
      baseline: stormPlain,
      measured: stormRecover,
      digits: 0,
      target: 'recovery/plain <= 1.5, no errors',
      met: stormRecover / stormPlain <= 1.5 && recoverErrors === 0,
    },
    { metric: 'entities replayed per consumer (median)', measured: mid((run) => run.recover.storm!.missed?.median ?? Number.NaN), digits: 0 },
    {
      metric: 'consumers failed (refused, lost, not recovered, timed out), total',
      baseline: sum((run) => failed(run.plain)),
      measured: sum((run) => failed(run.recover)),
      digits: 0,
    },
    {
      metric: 'frames out of seq order (missing, repeated), total',
      baseline: sum((run) => run.plain.storm!.mismatchedFrames),
      measured: sum((run) => run.recover.storm!.mismatchedFrames),
      digits: 0,
    },
    {
      metric: `live p50 ms (${live}): no storm -> recovery storm`,
      baseline: mid((run) => run.quiet.live.latencyMs.p50),
      measured: mid((run) => run.recover.live.duringStormMs.p50),
    },
    {
      metric: `live p99 ms (${live}): no storm -> recovery storm`,
      baseline: p99Quiet,
      measured: p99Recover,
      target: 'storm/no storm <= 1.5',
      met: p99Recover / p99Quiet <= 1.5 && liveMissing === 0,
    },
    { metric: 'live p99 ms: no storm -> plain reconnect storm', baseline: p99Quiet, measured: mid((run) => run.plain.live.duringStormMs.p99) },
    { metric: 'live deliveries missing, total', measured: liveMissing, digits: 0 },
    { metric: 'errors in plain reconnect storms, total', measured: plainErrors, digits: 0 },
  ];
}

function printRecoveryTable(rows: RecoveryRow[]): void {
  const header = ['metric (median of rounds)', 'baseline', 'measured', 'ratio', 'target', 'met'];
  const lines = rows.map((row) => [
    row.metric,
    formatFigure(row.baseline, row.digits),
    formatFigure(row.measured, row.digits),
    row.baseline === undefined ? '-' : formatFigure(row.measured / row.baseline),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ]);
  printMarkdown(header, lines, [0, 4]);
}

const formatFigure = (value: number | undefined, digits = 2) =>
  value === undefined || !Number.isFinite(value) ? '-' : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** Prints a Markdown table, the columns in `left` aligned left and the others right. */
function printMarkdown(header: string[], lines: string[][], left: readonly number[]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const render = (cells: string[]) => `| ${cells.map((cell, i) => (left.includes(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  console.log('');
  console.log(render(header));
  console.log(`|${widths.map((width, i) => (left.includes(i) ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`);
  for (const line of lines) console.log(render(line));
}

function printClusterTable(rows: ClusterRow[]): void {
  const header = ['metric (median of runs)', 'one instance', 'two instances', 'two/one', 'target', 'met'];
  const lines = rows.map((row) => [
    row.metric,
    formatFigure(row.one, row.digits),
    formatFigure(row.two, row.digits),
    formatFigure(row.ratio),
    row.target ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ]);
  printMarkdown(header, lines, [0, 4]);
}

function printPipelineTable(reports: readonly PipelineReport[]): void {
  console.log('\n| source | items | received | repeated | out of order | seconds | items/s end to end | target | met |');
  console.log('|:--|--:|--:|--:|--:|--:|--:|:--|--:|');
  for (const report of reports) {
    const exact = report.received === report.items && report.repeated === 0 && report.outOfOrder === 0;
    const met = exact && report.itemsPerSecond >= 5_000 ? 'yes' : 'no';
    console.log(
      `| ${report.source} | ${report.items} | ${report.received} | ${report.repeated} | ${report.outOfOrder} | ${round(report.elapsedMs / 1_000, 1)} | ` +
        `${report.itemsPerSecond.toLocaleString('en-US')} | >= 5,000/s, each once, in order | ${met} |`,
    );
  }
}

function printTable(rows: Row[]): void {
  const header = ['metric (median of runs)', 'gateway', 'ws', 'socketio', 'gw/ws', 'gw/sio', 'target', 'met'];
  const lines = rows.map((row) => {
    const ratio = (other: TargetName) => (row.values.gateway ?? Number.NaN) / (row.values[other] ?? Number.NaN);
    return [
      row.metric,
      formatFigure(row.values.gateway, row.digits),
      formatFigure(row.values.ws, row.digits),
      formatFigure(row.values.socketio, row.digits),
      formatFigure(ratio('ws')),
      formatFigure(ratio('socketio')),
      row.target ?? '',
      row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    ];
  });
  printMarkdown(header, lines, [0, 6]);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
