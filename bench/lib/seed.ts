import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { SecretHasher } from '../../libs/token-store/src/clients/secret-hasher.js';

/** A plain connection to the database the gateway uses, for seeding and cleanup only. */
interface Database {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

async function openDatabase(databaseUrl: URL | undefined, pgliteDataDir: string): Promise<Database> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl.toString(), application_name: 'experience-api-bench' });
    await client.connect();
    return { query: (sql, parameters) => client.query(sql, parameters), close: () => client.end() };
  }
  const db = await PGlite.create(pgliteDataDir);
  return { query: (sql, parameters) => db.query(sql, parameters), close: () => db.close() };
}

export interface SeedOptions {
  readonly databaseUrl?: URL;
  readonly pgliteDataDir: string;
  /** Prefix of every seeded client id, unique to the run, so runs never collide and cleanup finds them. */
  readonly prefix: string;
  readonly count: number;
  /** Where the `client_id token` lines go, for the load process and the reference servers. */
  readonly consumersFile: string;
}

const BATCH = 5_000;

/**
 * Creates `count` registered consumers straight in the database (whose schema
 * the gateway's own migrations made, at a start before this), exactly as
 * `POST /admin/clients` then `POST /consumers` would leave them, but without
 * paying two scrypt hashes (~50 ms each) per consumer: every bench client
 * shares one secret, hashed once by the app's own SecretHasher, and each gets
 * its own random token stored as its SHA-256. Not timed. Tokens are still
 * checked for real at every handshake.
 */
export async function seedConsumers(options: SeedOptions): Promise<void> {
  const secretHash: string = await new SecretHasher().hash(randomBytes(24).toString('base64url'));
  const database = await openDatabase(options.databaseUrl, options.pgliteDataDir);
  const lines: string[] = [];
  try {
    for (let from = 0; from < options.count; from += BATCH) {
      const ids: string[] = [];
      const hashes: string[] = [];
      for (let i = from; i < Math.min(options.count, from + BATCH); i++) {
        const clientId = `${options.prefix}-${i}`;
        const token = randomBytes(32).toString('base64url');
        ids.push(clientId);
        hashes.push(createHash('sha256').update(token).digest('hex'));
        lines.push(`${clientId} ${token}`);
      }
      await database.query(`INSERT INTO clients (client_id, secret_hash, grants) SELECT id, $2, '{}' FROM unnest($1::text[]) AS id`, [ids, secretHash]);
      await database.query(
        `INSERT INTO consumer_tokens (client_id, token_hash, issued_at, last_seen_at)
         SELECT id, decode(hash, 'hex'), now(), now() FROM unnest($1::text[], $2::text[]) AS seeded(id, hash)`,
        [ids, hashes],
      );
    }
  } finally {
    await database.close();
  }
  writeFileSync(options.consumersFile, `${lines.join('\n')}\n`);
}

/** Removes what a run left in a shared Postgres: its clients (tokens and claims cascade) and its entity ids. */
export async function removeSeeded(databaseUrl: URL, prefix: string): Promise<void> {
  const database = await openDatabase(databaseUrl, '');
  try {
    await database.query(`DELETE FROM clients WHERE client_id LIKE $1`, [`${prefix}-%`]);
    await database.query(`DELETE FROM publications WHERE id LIKE $1`, [`${prefix}-%`]);
  } finally {
    await database.close();
  }
}
