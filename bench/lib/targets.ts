import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type { DropRequest } from '../load/protocol.js';
import type { Dialect, Endpoint } from '../load/raw-consumer.js';
import { DROP_CLOSE_CODE, DROP_CLOSE_REASON } from '../servers/reference.js';

export type TargetName = 'gateway' | 'ws' | 'socketio';
export const TARGETS: readonly TargetName[] = ['gateway', 'ws', 'socketio'];

export interface TargetOptions {
  readonly consumersFile: string;
  readonly runDir: string;
  readonly databaseUrl?: URL;
  readonly pgliteDataDir: string;
  readonly smtpUrl?: string;
  /** Load the profiling hook, so that `startProfile` and `stopProfile` work. */
  readonly profile: boolean;
  /** Names the log and profile files, and the gateway's INSTANCE_ID. */
  readonly label: string;
  /** The gateway's ADMIN_TOKEN; instances of one cluster share theirs. Random when not given. */
  readonly adminToken?: string;
  /** Runs the gateway as one instance of a cluster over this Redis (REDIS_URL), its keys under `keyPrefix`. */
  readonly redis?: { readonly url: string; readonly keyPrefix: string };
  /** Open files (sockets) the server may hold, raised for it alone when more than the shell's limit is needed. */
  readonly fileLimit?: number;
}

/**
 * Raises a process's limit of open files (soft and hard) from outside, with
 * prlimit(1): only the bench's own processes get it, never the app's
 * defaults. Needs the right to raise a hard limit (root, or CAP_SYS_RESOURCE).
 */
export function raiseFileLimit(pid: number, limit: number): boolean {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** This process's hard limit of open files, which a process without CAP_SYS_RESOURCE cannot raise. */
export function hardFileLimit(): number {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line === null || line[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line[2]);
}

const GATEWAY_MAIN = resolve('dist/apps/experience-api/main.js');
const BENCH_DIST = resolve('dist/bench');
const CLOCK_TICKS_PER_SECOND = 100;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A server under test, in a process of its own. */
export class RunningTarget {
  private exited = false;
  exitCode: number | null = null;

  private constructor(
    readonly name: TargetName,
    readonly label: string,
    readonly endpoint: Endpoint,
    readonly path: string,
    private readonly child: ChildProcess,
    /** Where profiles go; undefined when the server is not profiled. */
    private readonly profileDir: string | undefined,
    /** The gateway's ADMIN_TOKEN. */
    private readonly adminToken?: string,
  ) {
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code ?? (signal ? 128 : null);
    });
  }

  static async start(name: TargetName, options: TargetOptions): Promise<RunningTarget> {
    const port = await freePort();
    const log = openSync(join(options.runDir, `${options.label}.log`), 'a');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      BENCH_CONSUMERS_FILE: options.consumersFile,
    };
    let script: string;
    let dialect: Dialect = 'plain';
    const adminToken = options.adminToken ?? randomBytes(24).toString('base64url');
    if (name === 'gateway') {
      script = GATEWAY_MAIN;
      Object.assign(env, {
        NODE_ENV: 'production',
        ADMIN_TOKEN: adminToken,
        INSTANCE_ID: `bench-${options.label}`,
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl.toString() } : { PGLITE_DATA_DIR: options.pgliteDataDir }),
        ...(options.redis ? { REDIS_URL: options.redis.url, REDIS_KEY_PREFIX: options.redis.keyPrefix } : {}),
        ...(options.smtpUrl ? { SMTP_URL: options.smtpUrl, ALERT_EMAIL_TO: 'oncall@bench.invalid' } : {}),
      });
    } else {
      script = join(BENCH_DIST, 'servers', name === 'ws' ? 'ws-server.js' : 'socketio-server.js');
      if (name === 'socketio') dialect = 'socketio';
    }
    const execArgv = options.profile ? ['--expose-gc', '--import', join(BENCH_DIST, 'lib', 'profile-hook.js')] : [];
    const child = spawn(process.execPath, [...execArgv, script], { env, stdio: ['ignore', log, log, 'ipc'] });
    if (options.fileLimit !== undefined && child.pid !== undefined && !raiseFileLimit(child.pid, options.fileLimit)) {
      child.kill('SIGKILL');
      throw new Error(`could not raise the open-file limit of ${options.label} to ${options.fileLimit}`);
    }
    const target = new RunningTarget(
      name,
      options.label,
      { host: '127.0.0.1', port, dialect },
      '/ws/publish',
      child,
      options.profile ? options.runDir : undefined,
      name === 'gateway' ? adminToken : undefined,
    );
    await target.ready(name === 'gateway' && options.redis !== undefined);
    return target;
  }

  /**
   * How to make the server close every consumer's connection at once: the
   * gateway through its admin API, the references through `POST /drop`; all
   * with the same close code (see DROP_CLOSE_CODE).
   */
  dropRequest(): DropRequest {
    if (this.name !== 'gateway') return { path: '/drop', headers: {}, body: '' };
    return {
      path: '/admin/sockets/close',
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'inbound', code: DROP_CLOSE_CODE, reason: DROP_CLOSE_REASON }),
    };
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Waits until the server answers; with `healthy`, until its `GET /health` answers 200 too (a cluster instance: Redis reached). */
  private async ready(healthy: boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.label} exited during start (code ${this.exitCode}); see its log`);
      try {
        await this.sockets();
        if (!healthy || (await fetch(`http://${this.endpoint.host}:${this.endpoint.port}/health`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${this.label} did not ${healthy ? 'report itself healthy' : 'answer'} within 60 s`);
  }

  /** Sockets the server holds open, as it reports them itself. */
  async sockets(): Promise<number> {
    const base = `http://${this.endpoint.host}:${this.endpoint.port}`;
    if (this.name === 'gateway') {
      const text = await (await fetch(`${base}/metrics`)).text();
      const match = /^push_gateway_sockets_open (\d+)/m.exec(text);
      if (!match) throw new Error('no push_gateway_sockets_open in /metrics');
      return Number(match[1]);
    }
    const stats = (await (await fetch(`${base}/stats`)).json()) as { sockets: number };
    return stats.sockets;
  }

  /** Resident set size, read from the kernel, so the server does nothing to report it. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return kb ? Number(kb[1]) * 1024 : Number.NaN;
  }

  /** CPU time used so far (user + system), in milliseconds. */
  cpuMs(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * Waits until the server has closed every socket (but `keep`, those meant to
   * stay open) and has gone quiet (less than 5% of a core over 300 ms), so that
   * one run's cleanup never lands in the next run's figures.
   */
  async settle(timeoutMs = 60_000, keep = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (await this.sockets()) > keep) await sleep(100);
    let before = this.cpuMs();
    while (Date.now() < deadline) {
      await sleep(300);
      const now = this.cpuMs();
      if (now - before < 15) return;
      before = now;
    }
  }

  /** Starts CPU sampling, when the server was started with `profile`. */
  async startProfile(): Promise<void> {
    if (!this.profileDir || this.exited) return;
    await this.ask({ profile: 'start' }, 'profiling');
  }

  /** Stops CPU sampling and writes what was sampled to `<label>.cpuprofile`; undefined when not profiling. */
  async stopProfile(label: string): Promise<string | undefined> {
    if (!this.profileDir || this.exited) return undefined;
    const file = join(this.profileDir, `${label}.cpuprofile`);
    await this.ask({ profile: 'stop', file }, 'profiled');
    return file;
  }

  /** Heap bytes in use after a full collection; undefined when not profiling. */
  async heapUsedAfterGc(): Promise<number | undefined> {
    if (!this.profileDir || this.exited) return undefined;
    const reply = (await this.ask({ profile: 'memory' }, 'memory')) as { memory: NodeJS.MemoryUsage };
    return reply.memory.heapUsed;
  }

  /** Writes a heap snapshot to `<label>.heapsnapshot`; undefined when not profiling. */
  async heapSnapshot(label: string): Promise<string | undefined> {
    if (!this.profileDir || this.exited) return undefined;
    const file = join(this.profileDir, `${label}.heapsnapshot`);
    await this.ask({ profile: 'heap', file }, 'heap');
    return file;
  }

  private ask(message: object, answer: string): Promise<unknown> {
    return new Promise((done) => {
      const listener = (reply: Record<string, unknown>) => {
        if (reply?.[answer] === undefined) return;
        this.child.off('message', listener);
        done(reply);
      };
      this.child.on('message', listener);
      this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise((done) => this.child.once('exit', done));
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (!this.exited) this.child.kill('SIGKILL');
    }
  }
}
