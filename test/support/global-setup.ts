import pg from 'pg';

// jest loads this file outside its module system, so it imports nothing of ours

/** Says which database the suites run on, and stops at once if the one asked for is not there. */
export default async function globalSetup(): Promise<void> {
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
    throw new Error(`DATABASE_URL is set but no Postgres answers at ${shown.host}${shown.pathname}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  console.log(`\nsuites run on Postgres at ${shown.host}${shown.pathname}`);
}
