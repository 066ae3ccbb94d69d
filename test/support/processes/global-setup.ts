import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

// jest loads this file outside its module system, so it imports nothing of ours

const SYSTEM_API_ENTRY = 'dist/apps/system-api/main.js';

function newestSource(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Suites run system-api as a real process from the build: build it when the sources are newer. */
function buildSystemApiIfStale(): void {
  const built = existsSync(SYSTEM_API_ENTRY) ? statSync(SYSTEM_API_ENTRY).mtimeMs : 0;
  if (built > Math.max(newestSource('apps/system-api/src'), newestSource('libs'))) return;
  console.log('\nbuilding system-api for the suites that run it as a process');
  execFileSync('npx', ['nest', 'build', 'system-api'], { stdio: 'inherit' });
}

/** Builds what the suites start as processes, says which database they run on, and stops at once if it is not there. */
export default async function globalSetup(): Promise<void> {
  buildSystemApiIfStale();
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.log('\nsuites run on embedded PGlite (set DATABASE_URL to run them on Postgres)');
    return;
  }
  const shown = new URL(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`DATABASE_URL is set but no Postgres answers at ${shown.host}${shown.pathname}: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
  console.log(`\nsuites run on Postgres at ${shown.host}${shown.pathname}`);
}
