import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/net/free-port.js';
import { eventually } from '../support/time/eventually.js';

// A newcomer's first session, on a fresh clone of this checkout: npm start, paste what it prints,
// stop it, start it again. Real processes, real ports; every wait is on a condition, with a bound.

const checkout = process.cwd();

/** A running process with its output, line by line, and waits on it. */
class Watched {
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let pending = '';
    const take = (chunk: Buffer): void => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiters) wake();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first line matching `pattern`, or fails after `ms` showing the output. */
  line(pattern: RegExp, ms: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.lines.find((line) => pattern.test(line));
        if (found === undefined) return false;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`no line matching ${pattern} within ${ms} ms; output:\n${this.output}`));
      }, ms);
      this.waiters.add(wake);
      check();
    });
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
      .once('connect', () => {
        socket.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false));
  });
}

/** A pid is gone when no process has it, or only a zombie waiting for its parent to read its status. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** `pid` and every process below it, read from /proc. */
function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n')) {
    const [child, parent] = entry.trim().split(/\s+/).map(Number);
    parentOf.set(child, parent);
  }
  const tree = [pid];
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parentOf) {
      if (tree.includes(parent) && !tree.includes(child)) {
        tree.push(child);
        grew = true;
      }
    }
  }
  return tree;
}

/** The README's walkthrough: the first sh block after its heading. */
function readmeWalkthrough(folder: string): string {
  const readme = readFileSync(join(folder, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A consumer from start to finish'));
  return section.slice(section.indexOf('```sh\n') + 6, section.indexOf('\n```', section.indexOf('```sh\n')));
}

describe('a newcomer on a fresh clone', () => {
  let root: string;
  let clone: string;
  let experiencePort: number;
  let systemPort: number;
  const started: ChildProcess[] = [];

  function npmStart(): Watched {
    const env: Record<string, string | undefined> = { ...process.env, EXPERIENCE_PORT: String(experiencePort), SYSTEM_PORT: String(systemPort) };
    for (const name of ['PORT', 'HOST', 'ADMIN_TOKEN', 'DATABASE_URL', 'PGLITE_DATA_DIR', 'NODE_ENV', 'SOURCES_FILE', 'EXPERIENCE_API_URL']) delete env[name];
    // its own process group, so that cleanup can reach whatever a failed test leaves behind
    const child = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    return new Watched(child);
  }

  async function allGone(tree: number[], ms: number): Promise<void> {
    await eventually(
      async () => tree.every((pid) => !alive(pid)) && !(await portAnswers(experiencePort)) && !(await portAnswers(systemPort)),
      ms,
      20,
      'every process of npm start gone and both ports free',
    );
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'newcomer-'));
    clone = join(root, 'push-gateway');
    execFileSync('git', ['clone', '-q', checkout, clone]);
    // CI has installed the dependencies once; a clone shares them, but for the workspace's own package (the client
    // SDK), which npm links to the clone's packages/client as it would on a fresh install: npm start builds that one
    const shared = realpathSync(join(checkout, 'node_modules'));
    mkdirSync(join(clone, 'node_modules/@push-gateway'), { recursive: true });
    for (const entry of readdirSync(shared)) if (entry !== '@push-gateway') symlinkSync(join(shared, entry), join(clone, 'node_modules', entry));
    symlinkSync('../../packages/client', join(clone, 'node_modules/@push-gateway/client'));
    experiencePort = await freePort();
    systemPort = await freePort();
  });

  afterAll(() => {
    for (const child of started) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  let first: Watched;
  let adminToken: string;
  let clientSecret: string;
  /** The pasted walkthrough, whose consumers stay in the background. */
  let session: Watched;

  it('npm start prints the README walkthrough, and pasting it delivers an entity and an inbox file to two consumers', async () => {
    first = npmStart();
    await first.line(/\[npm start\] Ctrl-C stops both apps/, 240_000);
    const from = first.lines.findIndex((line) => line.includes('try it: paste these commands'));
    const to = first.lines.findIndex((line, index) => index > from && line.startsWith('[npm start]'));
    const printed = first.lines
      .slice(from + 1, to)
      .join('\n')
      .trim();

    expect(printed.replace(`GATEWAY=http://127.0.0.1:${experiencePort}`, 'GATEWAY=http://127.0.0.1:3000')).toBe(readmeWalkthrough(clone));
    expect(first.output).toMatch(new RegExp(`listening on http://127\\.0\\.0\\.1:${experiencePort} `));
    expect(first.output).not.toContain(readFileSync(join(clone, 'data/admin-token'), 'utf8').trim());
    expect(statSync(join(clone, 'data/admin-token')).mode & 0o777).toBe(0o600);

    const script = `set -e\n${printed}\nprintf 'vars %s %s %s\\n' "$ADMIN_TOKEN" "$CLIENT_SECRET" "$TOKEN"\n`;
    const shell = spawn('bash', ['-c', script], { cwd: clone, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(shell);
    session = new Watched(shell);
    // the consumers print in the background, so a line of theirs may land after curl's answer on the same line
    await session.line(/acme: \{"type":"entity","id":"order-1042"/, 30_000);
    [, adminToken, clientSecret] = /vars (\S+) (\S+) (\S+)/.exec(await session.line(/vars \S+ \S+ \S+/, 30_000))!;
    await session.line(/acme: \{"type":"entity","id":"inbox:1043"/, 30_000);
    await session.line(/globex: \{"type":"entity","id":"inbox:1043"/, 30_000);

    expect(await session.exited).toBe(0);
    expect(adminToken.length).toBeGreaterThanOrEqual(16);

    // the console npm start points to is built and served, and it sees system-api where npm start put it
    const gateway = `http://127.0.0.1:${experiencePort}`;
    expect(first.output).toContain(`[npm start] operator console: ${gateway}/console/ (sign in with the admin token: cat data/admin-token)`);
    const page = await fetch(`${gateway}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const system = await fetch(`${gateway}/admin/system`, { headers: { Authorization: `Bearer ${adminToken}` } });
    expect(await system.json()).toMatchObject({ url: `http://127.0.0.1:${systemPort}`, reachable: true, health: { sources: [{ name: 'inbox' }] } });
  }, 330_000);

  it('a second npm start is refused at once, before building anything', async () => {
    const stamp = statSync(join(clone, 'dist/.npm-start-sources')).mtimeMs;

    const second = npmStart();
    const code = await Promise.race([second.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);

    expect(code).toBe(1);
    expect(second.output).toMatch(/another npm start is running|is in use/);
    expect(statSync(join(clone, 'dist/.npm-start-sources')).mtimeMs).toBe(stamp);
    expect(await portAnswers(experiencePort)).toBe(true);
  }, 30_000);

  it('SIGINT to npm start stops both apps within 5 s, with a log line', async () => {
    const tree = processTree(first.child.pid!);
    expect(tree.length).toBeGreaterThanOrEqual(3);

    process.kill(first.child.pid!, 'SIGINT');

    await allGone(tree, 5_000);
    expect(first.output).toContain('[npm start] SIGINT: stopping');
  }, 15_000);

  it("a restart skips the build and keeps the admin token, the clients and their tokens; the walkthrough's consumer reconnects and recovers what it missed; SIGTERM stops it within 5 s", async () => {
    const again = npmStart();
    await again.line(/\[npm start\] Ctrl-C stops both apps/, 120_000);
    const gateway = `http://127.0.0.1:${experiencePort}`;

    expect(again.output).toContain('build: up to date');
    expect(readFileSync(join(clone, 'data/admin-token'), 'utf8').trim()).toBe(adminToken);
    const client = await fetch(`${gateway}/admin/clients/acme`, { headers: { Authorization: `Bearer ${adminToken}` } });
    expect(client.status).toBe(200);
    // published before the walkthrough's consumer, backing off since the stop, is back
    const published = await fetch(`${gateway}/entity`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'order-1044', groups: ['orders'], data: { order: 1044, status: 'packed' } }),
    });
    expect(published.status).toBe(202);
    // it reconnects with its token, saying where it stopped, and is replayed what it missed (or receives it live, if it was quicker)
    const welcome = await session.line(/acme: \{"type":"welcome".*"recovered":true/, 60_000);
    expect(JSON.parse(welcome.slice(welcome.indexOf('acme: ') + 'acme: '.length))).toMatchObject({
      client_id: 'acme',
      recovered: true,
      missed: expect.any(Number),
    });
    await session.line(/acme: \{"type":"entity","id":"order-1044"/, 30_000);
    expect(session.lines.filter((line) => line.includes('acme: {"type":"entity","id":"order-1044"'))).toHaveLength(1);
    // what the welcome said, on stderr, which may come after stdout's lines
    await session.line(/acme: recovered; missed: [01], replayed next/, 10_000);
    const registered = await fetch(`${gateway}/consumers`, { method: 'POST', headers: { client_id: 'acme', client_secret: clientSecret } });
    expect(registered.status).toBe(201);

    const tree = processTree(again.child.pid!);
    process.kill(again.child.pid!, 'SIGTERM');

    await allGone(tree, 5_000);
    expect(again.output).toContain('[npm start] SIGTERM: stopping');
  }, 150_000);

  it('a mistake in sources.yaml stops system-api only: experience-api stays up, the problem printed last; SIGTERM to experience-api stops it all', async () => {
    writeFileSync(join(clone, 'sources.yaml'), '- name: inbox\n  type: directory\n  path: ./inbox\n  intervall: 1s\n');
    const broken = npmStart();

    await broken.line(/intervall: unknown key, did you mean "interval"\?/, 120_000);
    await eventually(() => /intervall/.test(broken.lines.filter((line) => line.trim() !== '').at(-1) ?? ''), 30_000, 20, 'the problem printed last');
    expect((await fetch(`http://127.0.0.1:${experiencePort}/health`)).status).toBe(200);
    expect(await portAnswers(systemPort)).toBe(false);

    // a signal to the app itself, not to npm start, stops everything too
    const tree = processTree(broken.child.pid!);
    const app = tree.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/apps/experience-api/main.js'));
    expect(app).toBeDefined();
    process.kill(app!, 'SIGTERM');
    await allGone(tree, 5_000);
  }, 150_000);
});
