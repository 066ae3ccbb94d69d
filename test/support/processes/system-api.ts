import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../net/free-port.js';

export const SYSTEM_API_ENTRY = 'dist/apps/system-api/main.js';

export interface SystemApiOptions {
  /** The sources file's text (YAML or JSON), written into `workDir`. */
  readonly sources: string;
  /** A folder of the test's own: the sources file, and PGlite's files unless DATABASE_URL is given. */
  readonly workDir: string;
  readonly experienceApiUrl: string;
  /** Any other variable, e.g. DATABASE_URL, SMTP_URL or credentials a source names. */
  readonly env?: Record<string, string>;
}

/**
 * system-api as its users run it: a real process from the build (global setup
 * builds it when stale), on embedded PGlite in the test's folder unless
 * DATABASE_URL says otherwise. It can be stopped, killed and started again
 * over the same data.
 */
export class SystemApiProcess {
  private child?: ChildProcess;
  private output = '';
  /** Chosen free before the start; chosen again if another process takes it first. */
  private port: Promise<number>;

  constructor(private readonly options: SystemApiOptions) {
    writeFileSync(join(options.workDir, 'sources.yaml'), options.sources);
    this.port = freePort();
  }

  get url(): Promise<string> {
    return this.port.then((port) => `http://127.0.0.1:${port}`);
  }

  /** The process's resident memory now, from /proc (Linux), in bytes. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.child?.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1_024;
  }

  /** Everything the process printed, for assertions on logs and for failure messages. */
  get log(): string {
    return this.output;
  }

  /**
   * Starts the process and waits until it is healthy. A free port can be taken by another process
   * between choosing it and binding it (suites run side by side): then a new one is chosen.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const logFrom = this.output.length;
      await this.spawn(await this.port);
      const bound = await this.bound(await this.port, logFrom);
      if (bound) break;
      if (attempt === 3 || !this.output.slice(logFrom).includes('EADDRINUSE')) {
        throw new Error(`system-api exited with ${this.child?.exitCode}:\n${this.output}`);
      }
      this.port = freePort();
    }
    await this.waitForHealth();
  }

  private async spawn(port: number): Promise<void> {
    const databaseUrl = process.env.DATABASE_URL;
    this.child = spawn(process.execPath, [join(process.cwd(), SYSTEM_API_ENTRY)], {
      cwd: this.options.workDir,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        EXPERIENCE_API_URL: this.options.experienceApiUrl,
        SOURCES_FILE: join(this.options.workDir, 'sources.yaml'),
        PGLITE_DATA_DIR: join(this.options.workDir, 'pglite'),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        ...this.options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) stream.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** True once this process says it listens on `port` (not some other server that took the port); false if it exits first. */
  private async bound(port: number, logFrom: number): Promise<boolean> {
    const child = this.child!;
    const listening = `listening on http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.output.slice(logFrom).includes(listening)) return true;
      if (child.exitCode !== null || child.signalCode !== null) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`system-api did not listen on ${port} within 60 s:\n${this.output}`);
  }

  /** The parsed body of GET /health, with the answer's HTTP status. */
  async health(): Promise<{
    httpStatus: number;
    status: string;
    sources: Array<{ name: string; state: string; last_error: string | null }>;
    outbox: { pending: number; dead_letters: number };
  }> {
    const response = await fetch(`${await this.url}/health`);
    return { httpStatus: response.status, ...((await response.json()) as object) } as never;
  }

  /** Graceful stop (SIGTERM), as an orchestrator does. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** Sudden death (SIGKILL): no shutdown hooks run. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Until /health answers: 200, or 503 while experience-api or a database is out of reach (the process serves either way). */
  private async waitForHealth(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = `${await this.url}/health`;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null) throw new Error(`system-api exited with ${this.child?.exitCode}:\n${this.output}`);
      try {
        const answer = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        if (answer.status === 200 || answer.status === 503) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`system-api did not become healthy within ${timeoutMs} ms:\n${this.output}`);
  }
}
