import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryFailedError, type DataSource } from 'typeorm';
import { DataFolderLockedError } from './data-folder-lock.js';
import { DatabaseHealth } from './database-health.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { openDataSource } from './open-data-source.js';
import { PGliteWorker } from './pglite-worker.js';

const options = (pgliteDataDir: string) => ({
  pgliteDataDir,
  applicationName: 'embedded-database-spec',
  migrationsTableName: 'embedded_database_spec_migrations',
  entities: [],
  migrations: [],
});

describe('the embedded database (PGlite in a worker thread)', () => {
  let root: string;
  let folder: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'embedded-database-'));
    folder = join(root, 'data');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps its rows in its folder, holds the folder while open and frees it once closed', async () => {
    const first = await openDataSource(options(folder));
    await first.query('CREATE TABLE notes (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), body bytea)');
    await first.query('INSERT INTO notes (id, body) VALUES ($1, $2)', ['a', Buffer.from([1, 2, 3])]);

    await expect(openDataSource(options(folder))).rejects.toBeInstanceOf(DataFolderLockedError);
    expect(existsSync(`${folder}.lock`)).toBe(true);

    await first.destroy();
    expect(existsSync(`${folder}.lock`)).toBe(false);

    const second = await openDataSource(options(folder));
    try {
      const [row] = await second.query<Array<{ id: string; at: unknown; body: unknown }>>('SELECT id, at, body FROM notes');
      expect(row.id).toBe('a');
      expect(row.at).toBeInstanceOf(Date);
      expect(row.body).toBeInstanceOf(Uint8Array);
      expect([...(row.body as Uint8Array)]).toEqual([1, 2, 3]);
    } finally {
      await second.destroy();
    }
  });

  describe('in memory', () => {
    let dataSource: DataSource;

    beforeAll(async () => {
      dataSource = await openDataSource(options('memory://'));
      await dataSource.query('CREATE TABLE clients (client_id text PRIMARY KEY)');
    });
    afterAll(() => dataSource.destroy());

    it('reports database errors with their SQLSTATE and fields, as TypeORM does for Postgres', async () => {
      await dataSource.query('INSERT INTO clients (client_id) VALUES ($1)', ['taken']);

      const error: unknown = await dataSource.query('INSERT INTO clients (client_id) VALUES ($1)', ['taken']).catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(QueryFailedError);
      expect(error).toMatchObject({ code: '23505', constraint: 'clients_pkey', driverError: { code: '23505', table: 'clients' } });
      expect(isDatabaseUnavailable(error)).toBe(false);
    });

    it('answers UPDATE and DELETE with their rows and count, and reports itself up', async () => {
      await dataSource.query('INSERT INTO clients (client_id) VALUES ($1), ($2)', ['u1', 'u2']);

      const updated: unknown = await dataSource.query('UPDATE clients SET client_id = client_id WHERE client_id IN ($1, $2) RETURNING client_id', ['u1', 'u2']);

      expect(updated).toEqual([expect.arrayContaining([{ client_id: 'u1' }, { client_id: 'u2' }]), 2]);
      await expect(new DatabaseHealth(dataSource).check()).resolves.toEqual({ up: true });
    });

    it('runs a long query without holding up this event loop', async () => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const started = Date.now();
      try {
        await dataSource.query('SELECT count(*) FROM generate_series(1, 1000000)');
      } finally {
        clearInterval(timer);
      }
      const elapsed = Date.now() - started;

      // in this thread, the timer would not have fired once until the query was over
      expect(ticks).toBeGreaterThan(Math.min(3, elapsed / 20));
    });
  });

  it('fails queries as an unreachable database once its thread is gone', async () => {
    const database = new PGliteWorker('memory://', [import.meta.url]);
    await database.ready;
    await database.close();

    const error: unknown = await database.query('SELECT 1').catch((caught: unknown) => caught);

    expect(isDatabaseUnavailable(error)).toBe(true);
  });
});
