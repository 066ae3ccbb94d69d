import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { freePort } from '../net/free-port.js';

export const EXPERIENCE_API_ENTRY = 'dist/apps/experience-api/main.js';

/** How a process ended: its exit code, or the signal that killed it. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every process started here, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * experience-api as an operator runs it: a real process from the build (global
 * setup builds it when stale), configured by environment variables only, in an
 * empty working folder of its own (so no `.env` of the repository is read). It
 * can be stopped (SIGTERM), killed (SIGKILL) and started again on the same port.
 */
export class ExperienceApiProcess {
  private child?: ChildProcess;
  private exit?: Promise<Exit>;
  private output = '';
  private port?: number;
  private readonly workDir = mkdtempSync(join(tmpdir(), 'experience-api-'));

  /** `env` is the whole environment besides PATH, PORT and HOST. */
  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  get httpUrl(): string {
    return `http://127.0.0.1:${this.required(this.port)}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.required(this.port)}`;
  }

  /** The consumer endpoint. */
  get publishUrl(): string {
    return `${this.wsUrl}/ws/publish`;
  }

  /** A supertest client for this instance. */
  get http(): ReturnType<typeof request> {
    return request(this.httpUrl);
  }

  /** Everything the process printed, across every start, for failure messages. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the current process ends. */
  get exited(): Promise<Exit> {
    return this.required(this.exit);
  }

  /**
   * Starts the process, on the port of its previous life if it had one, and waits until it
   * answers `GET /health` with 200. A free port can be taken by another process between choosing
   * it and binding it (suites run side by side): then, on a first start, another one is chosen.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const firstStart = this.port === undefined;
    this.port ??= await freePort();
    for (let attempt = 1; ; attempt++) {
      const logFrom = this.output.length;
      this.spawn(this.port);
      if (await this.bound(this.port, logFrom)) break;
      if (!firstStart || attempt === 3 || !this.output.slice(logFrom).includes('EADDRINUSE')) {
        throw new Error(`${this.name} exited with ${JSON.stringify(await this.exited)}:\n${this.output}`);
      }
      this.port = await freePort();
    }
    await this.waitForHealth();
  }

  private spawn(port: number): void {
    const child = spawn(process.execPath, [join(process.cwd(), EXPERIENCE_API_ENTRY)], {
      cwd: this.workDir,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    running.add(child);
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      }),
    );
    this.output += `\n--- ${this.name}: started, pid ${child.pid}, port ${port} ---\n`;
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** True once this process says it listens on `port` (not some other server that took the port); false if it exits first. */
  private async bound(port: number, logFrom: number): Promise<boolean> {
    const listening = `listening on http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.output.slice(logFrom).includes(listening)) return true;
      if (!this.running) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.name} did not listen on ${port} within 60 s:\n${this.output}`);
  }

  private async waitForHealth(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited with ${JSON.stringify(await this.exited)}:\n${this.output}`);
      try {
        if ((await fetch(`${this.httpUrl}/health`, { signal: AbortSignal.timeout(1_000) })).ok) return;
      } catch {
        // not answering yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.name} did not become healthy within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Graceful stop (SIGTERM), as an orchestrator does; resolves with how the process ended. */
  stop(): Promise<Exit> {
    return this.signal('SIGTERM');
  }

  /** Sudden death (SIGKILL): no shutdown hook runs, nothing is released. */
  kill(): Promise<Exit> {
    return this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<Exit> {
    if (!this.child) return { code: null, signal: null };
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** Stops the process if it runs (SIGKILL if SIGTERM has not ended it within 10 s) and removes its folder. */
  async dispose(): Promise<void> {
    if (this.running) {
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.stop();
      clearTimeout(timer);
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** The last lines the process printed, without colours nor Nest's start-up listing of modules and routes. */
  tail(lines = 40): string {
    return this.output
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .filter((line) => !/\[(InstanceLoader|RoutesResolver|RouterExplorer)\]/.test(line))
      .slice(-lines)
      .join('\n');
  }

  private required<T>(value: T | undefined): T {
    if (value === undefined) throw new Error(`${this.name} has not been started`);
    return value;
  }
}
