import { closeSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** Another live process holds the embedded database's folder. */
export class DataFolderLockedError extends Error {
  constructor(
    readonly folder: string,
    readonly pid: number,
    readonly lockFile: string,
    readonly host: string,
  ) {
    super(
      host === hostname()
        ? `the embedded database folder ${folder} is in use by process ${pid} (lock file ${lockFile}); stop that process first, ` +
            'or set PGLITE_DATA_DIR to another folder'
        : `the embedded database folder ${folder} is in use by process ${pid} on host ${host} (lock file ${lockFile}); ` +
            'if that process is gone, delete the lock file',
    );
    this.name = DataFolderLockedError.name;
  }
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
}

/** A lock whose owner could not be read within this long is a leftover of a crash, not one being written. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

/** Who a lock file names; an unreadable one old enough to be a crash's leftover names no live process (pid 0). */
function readOwner(lockFile: string): LockOwner | 'gone' | 'being-written' {
  let text: string;
  try {
    text = readFileSync(lockFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    if (Number.isInteger(owner.pid) && typeof owner.host === 'string') return { pid: owner.pid!, host: owner.host };
  } catch {
    // written half-way: the owner is between creating the file and writing it, or crashed there
  }
  try {
    return Date.now() - statSync(lockFile).mtimeMs < UNREADABLE_LOCK_GRACE_MS ? 'being-written' : { pid: 0, host: hostname() };
  } catch {
    return 'gone';
  }
}

/** True when `pid` runs on this machine; EPERM means it runs under another user, which still holds the lock. */
function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryCreate(lockFile: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockFile, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() })}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes a lock left by a dead process. Only one process may do so at a time (a second lock,
 * held for microseconds), else two could each remove the other's fresh lock and both go on.
 */
function removeIfStale(lockFile: string, stale: LockOwner): void {
  const breaker = `${lockFile}.breaking`;
  if (!tryCreate(breaker)) {
    const owner = readOwner(breaker);
    if (owner !== 'gone' && owner !== 'being-written' && !isAlive(owner.pid)) rmSync(breaker, { force: true });
    return;
  }
  try {
    const now = readOwner(lockFile);
    if (now !== 'gone' && now !== 'being-written' && now.pid === stale.pid && now.host === stale.host) rmSync(lockFile, { force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

const heldHere = new Set<string>();

/** A held lock on an embedded database folder; `release` is idempotent. */
export interface DataFolderLock {
  readonly lockFile: string;
  release(): void;
}

/**
 * Takes the lock on an embedded (PGlite) database folder: `<folder>.lock`, beside it, holding
 * this process's pid. A lock whose process is gone is taken over. Throws DataFolderLockedError
 * when a live process, this one included, holds it: two PGlite instances on one folder corrupt it.
 */
export function lockDataFolder(folder: string): DataFolderLock {
  const absolute = resolve(folder);
  const lockFile = `${absolute}.lock`;
  if (heldHere.has(lockFile)) throw new DataFolderLockedError(absolute, process.pid, lockFile, hostname());
  for (let attempt = 0; ; attempt++) {
    // a retry waits a few milliseconds for whoever is writing or breaking the lock right now
    if (attempt > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    if (tryCreate(lockFile)) break;
    const owner = readOwner(lockFile);
    if (attempt >= 50) throw new Error(`could not take the lock ${lockFile} on the embedded database folder ${absolute}`);
    if (owner === 'gone') continue;
    if (owner === 'being-written') continue;
    if (owner.host !== hostname() || isAlive(owner.pid)) throw new DataFolderLockedError(absolute, owner.pid, lockFile, owner.host);
    removeIfStale(lockFile, owner);
  }
  heldHere.add(lockFile);
  const releaseAtExit = (): void => release();
  function release(): void {
    if (!heldHere.delete(lockFile)) return;
    process.off('exit', releaseAtExit);
    try {
      const owner = readOwner(lockFile);
      if (owner !== 'gone' && owner !== 'being-written' && owner.pid === process.pid) unlinkSync(lockFile);
    } catch {
      // the folder went away with its lock
    }
  }
  // a process that exits without closing its database still frees the folder
  process.on('exit', releaseAtExit);
  return { lockFile, release };
}
