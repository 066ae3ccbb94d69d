import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../net/free-port.js';
import { redisAnswers } from '../processes/services.js';

/** Whether the machine has a `redis-server` to run. */
export function redisServerInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Every server started here, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A Redis of the test's own: the machine's `redis-server` binary as a child
 * process on a spare port, with an append-only file written on every command,
 * as the README asks of a cluster's Redis. It can be stopped (the bus goes
 * away for every instance at once) and started again on the same port with
 * what it held: the stream, the `seq` counter and the idempotency keys.
 */
export class RedisServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';
  private port?: number;
  private readonly workDir = mkdtempSync(join(tmpdir(), 'redis-'));

  get url(): string {
    if (this.port === undefined) throw new Error('the Redis server has not been started');
    return `redis://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server, on the port of its previous life if it had one, and waits until it answers PING. */
  async start(): Promise<void> {
    if (this.running) throw new Error('the Redis server is already running');
    const firstStart = this.port === undefined;
    this.port ??= await freePort();
    for (let attempt = 1; ; attempt++) {
      const logFrom = this.output.length;
      this.spawn(this.port);
      if (await this.ready(logFrom)) return;
      // another process took the port between choosing and binding it
      if (!firstStart || attempt === 3) throw new Error(`redis-server did not start on ${this.port}:\n${this.output}`);
      this.port = await freePort();
    }
  }

  private spawn(port: number): void {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.workDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        resolve();
      }),
    );
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** True once the server answers PING; false if it exits first. */
  private async ready(logFrom: number): Promise<boolean> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (!this.running) return false;
      if (this.output.slice(logFrom).includes('Ready to accept connections') && (await redisAnswers(this.url))) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer within 20 s:\n${this.output}`);
  }

  /** Stops the server (SIGTERM: it closes every client connection) and waits until it has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    await this.exited;
  }

  async dispose(): Promise<void> {
    if (this.running) {
      this.child!.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
