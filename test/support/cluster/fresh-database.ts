import pg from 'pg';

/**
 * A database of the suite's own on a real Postgres server, created empty and
 * dropped at the end: several experience-api processes share it, as replicas
 * share one Postgres (PGlite is one process only).
 */
export class FreshDatabase {
  private constructor(
    private readonly serverUrl: URL,
    readonly name: string,
  ) {}

  /** Creates `<prefix>_<pid>_<time>` on the server of `serverUrl` (whatever database that URL names). */
  static async create(serverUrl: string, prefix: string): Promise<FreshDatabase> {
    const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    const database = new FreshDatabase(new URL(serverUrl), name);
    await database.onServer(`CREATE DATABASE "${name}"`);
    return database;
  }

  /** The connection string of this database. */
  get url(): string {
    const url = new URL(this.serverUrl);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  /** Drops the database, disconnecting whoever is still on it. */
  drop(): Promise<void> {
    return this.onServer(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
  }

  /** Runs a statement on the server's maintenance database (`postgres`). */
  private async onServer(statement: string): Promise<void> {
    const url = new URL(this.serverUrl);
    url.pathname = '/postgres';
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }
}
