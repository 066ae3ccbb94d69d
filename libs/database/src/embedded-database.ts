import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { type DataFolderLock, lockDataFolder } from './data-folder-lock.js';
import { PGliteWorker, workerDriver } from './pglite-worker.js';

/** An embedded PGlite database, in a worker thread of its own, and the driver TypeORM talks to it through. */
export interface EmbeddedDatabase {
  readonly driver: unknown;
  /** Closes PGlite, ends its thread, then frees the folder's lock; idempotent. */
  close(): Promise<void>;
}

const logger = new Logger('Database');

/** Where the worker looks for `@electric-sql/pglite`: beside this code, else in the working folder. */
function packageBases(): string[] {
  return [import.meta.url, join(process.cwd(), 'package.json')];
}

function open(dataDir: string, lock?: DataFolderLock): EmbeddedDatabase {
  const database = new PGliteWorker(dataDir, packageBases());
  let closing: Promise<void> | undefined;
  // the folder is free only once the thread that wrote to it is gone
  const close = (): Promise<void> => (closing ??= database.close().finally(() => lock?.release()));
  return { driver: workerDriver(database, close), close };
}

const inMemory = new Map<string, { readonly database: PGliteWorker; users: number }>();

/**
 * One in-memory database per name in a process, shared by every DataSource that opens it until
 * the last one closes it, as one Postgres database would be (and as typeorm-pglite's one instance
 * was): specs that run two app instances in one process see the same rows.
 */
function openInMemory(name: string): EmbeddedDatabase {
  let shared = inMemory.get(name);
  if (!shared) inMemory.set(name, (shared = { database: new PGliteWorker(name, packageBases()), users: 0 }));
  const { database } = shared;
  shared.users++;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (() => {
      if (--shared.users > 0) return Promise.resolve();
      inMemory.delete(name);
      return database.close();
    })());
  return { driver: workerDriver(database, close), close };
}

/**
 * Opens PGlite in `dataDir` (`memory://`: nowhere) after taking the folder's lock, so that a
 * second process fails at once naming the folder and the holder's pid instead of corrupting it.
 * PGlite runs in a worker thread: its queries never hold up this process's event loop.
 */
export function openEmbeddedDatabase(dataDir: string): EmbeddedDatabase {
  if (dataDir.startsWith('memory://')) return openInMemory(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataFolder(dataDir);
  // creating the files takes several seconds on a slow machine: say so rather than stay silent
  if (!existsSync(join(dataDir, 'PG_VERSION'))) logger.log(`creating the embedded database (first run) in ${resolve(dataDir)}…`);
  try {
    return open(resolve(dataDir), lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}
