import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { PGliteDriver } from 'typeorm-pglite';
import { type DataFolderLock, lockDataFolder } from './data-folder-lock.js';

/** An embedded PGlite driver for TypeORM, with the lock on its folder when it has one. */
export interface EmbeddedDatabase {
  readonly driver: unknown;
  readonly lock?: DataFolderLock;
}

const logger = new Logger('Database');

/**
 * Opens PGlite in `dataDir` (`memory://`: nowhere) after taking the folder's lock, so that a
 * second process fails at once naming the folder and the holder's pid instead of corrupting it.
 */
export function openEmbeddedDatabase(dataDir: string): EmbeddedDatabase {
  if (dataDir.startsWith('memory://')) return { driver: new PGliteDriver({ dataDir }).driver };
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataFolder(dataDir);
  // creating the files takes several seconds on a slow machine: say so rather than stay silent
  if (!existsSync(join(dataDir, 'PG_VERSION'))) logger.log(`creating the embedded database (first run) in ${resolve(dataDir)}…`);
  try {
    return { driver: new PGliteDriver({ dataDir }).driver, lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}
