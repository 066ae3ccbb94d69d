import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { DataFolderLockedError, lockDataFolder } from './data-folder-lock.js';

function lockFileOwnedBy(folder: string, pid: number, host = hostname()): void {
  writeFileSync(`${folder}.lock`, JSON.stringify({ pid, host, since: new Date().toISOString() }));
}

function idleNode(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

describe(lockDataFolder.name, () => {
  let root: string;
  let folder: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'data-folder-lock-'));
    folder = join(root, 'experience-api');
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('writes this process id into <folder>.lock and removes it on release', () => {
    const sut = lockDataFolder(folder);

    expect(sut.lockFile).toBe(`${folder}.lock`);
    expect(JSON.parse(readFileSync(sut.lockFile, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    sut.release();
    expect(existsSync(`${folder}.lock`)).toBe(false);
  });

  it('refuses a second hold in the same process, naming the folder and the pid', () => {
    const first = lockDataFolder(folder);

    expect(() => lockDataFolder(`${folder}/`)).toThrow(DataFolderLockedError);
    expect(() => lockDataFolder(folder)).toThrow(`the embedded database folder ${folder} is in use by process ${process.pid}`);
    first.release();
    lockDataFolder(folder).release();
  });

  it('refuses while another live process holds the folder, and leaves its lock alone', async () => {
    const holder = idleNode();
    children.push(holder);
    await once(holder, 'spawn');
    lockFileOwnedBy(folder, holder.pid!);

    let refusal: unknown;
    try {
      lockDataFolder(folder);
    } catch (error) {
      refusal = error;
    }

    expect(refusal).toBeInstanceOf(DataFolderLockedError);
    expect(refusal).toMatchObject({ folder, pid: holder.pid });
    expect((refusal as Error).message).toContain(`${folder}.lock`);
    expect(JSON.parse(readFileSync(`${folder}.lock`, 'utf8')).pid).toBe(holder.pid);
  });

  it('takes over the lock of a process that is gone', async () => {
    const gone = idleNode();
    await once(gone, 'spawn');
    gone.kill('SIGKILL');
    await once(gone, 'exit');
    lockFileOwnedBy(folder, gone.pid!);

    const sut = lockDataFolder(folder);

    expect(JSON.parse(readFileSync(sut.lockFile, 'utf8')).pid).toBe(process.pid);
    sut.release();
  });

  it('takes over a lock left unreadable by a crash, once it is old', () => {
    writeFileSync(`${folder}.lock`, '{"pi');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${folder}.lock`, old, old);

    const sut = lockDataFolder(folder);

    expect(JSON.parse(readFileSync(sut.lockFile, 'utf8')).pid).toBe(process.pid);
    sut.release();
  });

  it('treats a lock from another host as held: it cannot tell whether that process lives', () => {
    lockFileOwnedBy(folder, 1, 'another-host.example');

    expect(() => lockDataFolder(folder)).toThrow(/on host another-host\.example .*delete the lock file/);
  });

  it('does not remove a lock another process took after this one released its own', async () => {
    const sut = lockDataFolder(folder);
    sut.release();
    const holder = idleNode();
    children.push(holder);
    await once(holder, 'spawn');
    lockFileOwnedBy(folder, holder.pid!);

    sut.release();

    expect(JSON.parse(readFileSync(`${folder}.lock`, 'utf8')).pid).toBe(holder.pid);
  });
});
