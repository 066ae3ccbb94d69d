import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExperienceConfig } from './experience.config.js';

/** Where a development run keeps the admin token it made up, so that it survives restarts. */
export const DEVELOPMENT_ADMIN_TOKEN_FILE = './data/admin-token';

const MIN_LENGTH = 16;

/**
 * In development without ADMIN_TOKEN, replaces the token made up for this run by the one kept
 * in `file` (mode 0600), writing it there on the first run. Production and a given ADMIN_TOKEN
 * are returned unchanged: nothing is read or written.
 */
export function keepDevelopmentAdminToken(config: ExperienceConfig, file = DEVELOPMENT_ADMIN_TOKEN_FILE): ExperienceConfig {
  if (!config.adminTokenGenerated || config.adminToken === undefined) return config;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${config.adminToken}\n`, { flag: 'wx', mode: 0o600 });
    return config;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const kept = readFileSync(file, 'utf8').trim();
  if (kept.length >= MIN_LENGTH && !/\s/.test(kept)) return { ...config, adminToken: kept };
  // an emptied or mangled file: a fresh token replaces it rather than a weak one being used
  writeFileSync(file, `${config.adminToken}\n`, { mode: 0o600 });
  return config;
}
