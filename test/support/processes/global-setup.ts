import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

// jest loads this file outside its module system, so it imports nothing of ours

function newestSource(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Suites run system-api, and the cluster suites experience-api, as real processes from the
 * build: build an app when its sources or the libraries are newer than its bundle.
 */
function buildIfStale(app: 'experience-api' | 'system-api'): void {
  const entry = `dist/apps/${app}/main.js`;
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  if (built > Math.max(newestSource(`apps/${app}/src`), newestSource('libs'))) return;
  console.log(`\nbuilding ${app} for the suites that run it as a process`);
  execFileSync('npx', ['nest', 'build', app], { stdio: 'inherit' });
}

/** The newest change of any file under the folders, whatever its kind (the console has .tsx, .css and .html). */
function newestFile(...folders: string[]): number {
  let newest = 0;
  for (const folder of folders) {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      newest = Math.max(newest, entry.isDirectory() ? newestFile(path) : statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** The console suite drives the built console in Chromium: build it when its sources or the SDK it uses are newer. */
function buildConsoleIfStale(): void {
  const page = 'dist/console/index.html';
  const built = existsSync(page) ? statSync(page).mtimeMs : 0;
  if (built > newestFile('apps/console', 'packages/client/src')) return;
  console.log('\nbuilding the operator console for the console suite');
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'apps/console/vite.config.ts', '--logLevel', 'warn'], {
    stdio: 'inherit',
    // jest's NODE_ENV=test would give React's development build
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** Builds what the suites start as processes, says which database they run on, and stops at once if it is not there. */
export default async function globalSetup(): Promise<void> {
  buildIfStale('system-api');
  buildIfStale('experience-api');
  buildConsoleIfStale();
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
