import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '@app/database';
import { ItemsRefusedError, type OutboxDepth, type OutboxItem, OutboxRepository, type PendingItem } from './outbox.repository.js';

/** SQLSTATE classes 22 (data exception) and 54 (program limit exceeded) are about what was sent, not the database's health. */
function refusedContent(error: unknown): unknown {
  const code = (error as { code?: unknown }).code ?? (error as { driverError?: { code?: unknown } }).driverError?.code;
  if (typeof code === 'string' && /^(22|54)/.test(code))
    return new ItemsRefusedError(`the database refused the item: ${(error as Error).message}`, { cause: error });
  return error;
}

/** Postgres text cannot hold NUL: a dead letter or an error keeps it as the six characters `\u0000`. */
function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}

/**
 * The outbox over TypeORM's DataSource, on Postgres or PGlite. Writes that
 * must be atomic are single statements, which both run atomically without a
 * transaction spanning round trips.
 */
@Injectable()
export class TypeOrmOutboxRepository extends OutboxRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async store(source: string, items: readonly OutboxItem[], cursor: unknown): Promise<number> {
    const [row] = await this.dataSource
      .query(
        `WITH incoming AS (
         SELECT * FROM json_to_recordset($2::json) AS t(ord int, id text, groups jsonb, data json)
       ), stored AS (
         INSERT INTO outbox (source, item_id, groups, data)
         SELECT $1, id, groups, data FROM incoming ORDER BY ord
         ON CONFLICT (source, item_id) DO NOTHING
         RETURNING 1
       ), moved AS (
         INSERT INTO source_cursors (source, cursor, updated_at)
         SELECT $1, $3::jsonb, now() WHERE $3::jsonb IS NOT NULL
         ON CONFLICT (source) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM stored) AS stored, (SELECT count(*) FROM moved) AS moved`,
        [
          source,
          JSON.stringify(items.map((item, ord) => ({ ord, id: item.id, groups: item.groups ?? null, data: item.data }))),
          cursor === undefined ? null : JSON.stringify(cursor),
        ],
      )
      .catch((error: unknown) => {
        throw refusedContent(error);
      });
    return Number(row.stored);
  }

  async deadLetter(source: string, item: string, reason: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO dead_letters (source, item, item_hash, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source, item_hash) DO NOTHING RETURNING 1`,
      [source, storableText(item.slice(0, 1_048_576)), createHash('sha256').update(item).digest(), storableText(reason)],
    );
    return rows.length === 1;
  }

  async cursor(source: string): Promise<unknown> {
    const [row] = await this.dataSource.query('SELECT cursor FROM source_cursors WHERE source = $1', [source]);
    return row?.cursor;
  }

  async pending(sources: readonly string[], perSource: number): Promise<PendingItem[]> {
    if (sources.length === 0) return [];
    const rows: Array<{ position: string; source: string; item_id: string; groups: string[] | null; data: unknown }> = await this.dataSource.query(
      `SELECT p.position, p.source, p.item_id, p.groups, p.data
         FROM unnest($1::text[]) AS s(name)
         CROSS JOIN LATERAL (
           SELECT position, source, item_id, groups, data FROM outbox
            WHERE source = s.name AND delivered_at IS NULL AND failed_at IS NULL
            ORDER BY position LIMIT $2) p
        ORDER BY p.position`,
      [sources, perSource],
    );
    // pg gives bigint as a string, PGlite as a number
    return rows.map((row) => ({ position: String(row.position), source: row.source, id: row.item_id, groups: row.groups, data: row.data }));
  }

  async markDelivered(positions: readonly string[]): Promise<void> {
    if (positions.length === 0) return;
    await this.dataSource.query('UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE position = ANY($1::bigint[])', [
      positions,
    ]);
  }

  async markFailed(position: string, error: string): Promise<void> {
    await this.dataSource.query('UPDATE outbox SET failed_at = now(), attempts = attempts + 1, last_error = $2 WHERE position = $1', [
      position,
      storableText(error),
    ]);
  }

  async noteAttempt(position: string, error: string): Promise<void> {
    await this.dataSource.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE position = $1', [position, storableText(error)]);
  }

  async noteServerError(position: string, error: string): Promise<number> {
    const rows: Array<{ server_errors: number }> = await this.dataSource.query(
      // a CTE, so that the driver answers rows (an UPDATE alone answers [rows, count])
      `WITH noted AS (
         UPDATE outbox SET attempts = attempts + 1, server_errors = server_errors + 1, last_error = $2 WHERE position = $1 RETURNING server_errors
       ) SELECT server_errors FROM noted`,
      [position, storableText(error)],
    );
    return Number(rows[0]?.server_errors ?? 0);
  }

  async prune(retentionMs: number): Promise<number> {
    const rows = await queryRows(this.dataSource, `DELETE FROM outbox WHERE delivered_at < now() - $1 * interval '1 millisecond' RETURNING 1`, [retentionMs]);
    return rows.length;
  }

  async depth(): Promise<OutboxDepth> {
    const [row] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL) AS pending,
              (SELECT count(*) FROM dead_letters) + (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS dead_letters`,
    );
    return { pending: Number(row.pending), deadLetters: Number(row.dead_letters) };
  }
}
