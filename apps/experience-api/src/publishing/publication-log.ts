import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryPrepared, queryRows } from '@app/database';

export interface PublicationRecord {
  readonly seq: number;
  readonly publishedAt: Date;
  /** The id had been published inside the idempotency window. */
  readonly duplicate: boolean;
}

const IDEMPOTENCY_WINDOW_HOURS = 24;

/** The ids published in the last 24 hours with their `seq`, shared by every instance through the database. */
export abstract class PublicationLog {
  /** Records the id and assigns the next `seq`, or returns the earlier record of the same id. */
  abstract record(id: string): Promise<PublicationRecord>;
  /**
   * Records distinct ids at once, as `record` does each: the fresh ones take
   * their `seq`s in the order given. One settled record per id, in that order.
   * This default records them one after the other; a store that can do it in
   * one round trip does.
   */
  async recordAll(ids: readonly string[]): Promise<Array<PromiseSettledResult<PublicationRecord>>> {
    const records: Array<PromiseSettledResult<PublicationRecord>> = [];
    for (const id of ids) {
      try {
        records.push({ status: 'fulfilled', value: await this.record(id) });
      } catch (reason) {
        records.push({ status: 'rejected', reason });
      }
    }
    return records;
  }
  /**
   * Takes back a record whose broadcast failed, so that the id publishes
   * afresh when retried; a record the id has been given since is left alone.
   */
  abstract forget(id: string, seq: number): Promise<void>;
  /** Forgets ids older than the idempotency window; returns how many. */
  abstract prune(): Promise<number>;
  /** The highest `seq` given out so far (0: none). */
  abstract highestSeq(): Promise<number>;
  /** Makes sure the next `seq` given out is above `seq`: a cluster that numbered entities elsewhere hands its count back. */
  abstract raiseSeqTo(seq: number): Promise<void>;
}

@Injectable()
export class TypeOrmPublicationLog extends PublicationLog {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async record(id: string): Promise<PublicationRecord> {
    // one round trip: insert (or re-insert an expired id), else read the live earlier record
    const [row] = await queryPrepared<{ seq: string | number; published_at: string | Date; duplicate: boolean }>(
      this.dataSource,
      'record_publication',
      `WITH fresh AS (
         INSERT INTO publications (id) VALUES ($1)
         ON CONFLICT (id) DO UPDATE SET seq = nextval('entity_seq'), published_at = now()
          WHERE publications.published_at <= now() - interval '${IDEMPOTENCY_WINDOW_HOURS} hours'
         RETURNING seq, published_at)
       SELECT seq, published_at, false AS duplicate FROM fresh
       UNION ALL
       SELECT seq, published_at, true FROM publications WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM fresh)`,
      [id],
    );
    return { seq: Number(row.seq), publishedAt: new Date(row.published_at), duplicate: row.duplicate === true };
  }

  override async recordAll(ids: readonly string[]): Promise<Array<PromiseSettledResult<PublicationRecord>>> {
    if (ids.length === 1)
      return [
        await this.record(ids[0]).then(
          (value) => ({ status: 'fulfilled' as const, value }),
          (reason: unknown) => ({ status: 'rejected' as const, reason }),
        ),
      ];
    let rows: Array<{ ord: string | number; seq: string | number; published_at: string | Date; duplicate: boolean }>;
    try {
      // one statement: the rows are inserted in the order given, so the fresh ids take their seqs in that order
      rows = await queryPrepared(
        this.dataSource,
        'record_publications',
        `WITH input AS (
           SELECT id, ord FROM unnest($1::varchar[]) WITH ORDINALITY AS t(id, ord)
         ), fresh AS (
           INSERT INTO publications (id)
           SELECT id FROM input ORDER BY ord
           ON CONFLICT (id) DO UPDATE SET seq = nextval('entity_seq'), published_at = now()
            WHERE publications.published_at <= now() - interval '${IDEMPOTENCY_WINDOW_HOURS} hours'
           RETURNING id, seq, published_at)
         SELECT input.ord, coalesce(fresh.seq, earlier.seq) AS seq, coalesce(fresh.published_at, earlier.published_at) AS published_at,
                fresh.id IS NULL AS duplicate
           FROM input
           LEFT JOIN fresh ON fresh.id = input.id
           LEFT JOIN publications earlier ON fresh.id IS NULL AND earlier.id = input.id
          ORDER BY input.ord`,
        [ids],
      );
    } catch (reason) {
      return ids.map(() => ({ status: 'rejected', reason }));
    }
    return rows.map((row) => ({
      status: 'fulfilled',
      value: { seq: Number(row.seq), publishedAt: new Date(row.published_at), duplicate: row.duplicate === true },
    }));
  }

  async forget(id: string, seq: number): Promise<void> {
    await this.dataSource.query('DELETE FROM publications WHERE id = $1 AND seq = $2', [id, seq]);
  }

  async highestSeq(): Promise<number> {
    const [row] = await this.dataSource.query<Array<{ last_value: string | number; is_called: boolean }>>('SELECT last_value, is_called FROM entity_seq');
    return row.is_called ? Number(row.last_value) : Number(row.last_value) - 1;
  }

  async raiseSeqTo(seq: number): Promise<void> {
    await this.dataSource.query(`SELECT setval('entity_seq', $1) WHERE (SELECT last_value FROM entity_seq) < $1`, [seq]);
  }

  async prune(): Promise<number> {
    const rows = await queryRows(
      this.dataSource,
      `DELETE FROM publications WHERE published_at <= now() - interval '${IDEMPOTENCY_WINDOW_HOURS} hours' RETURNING id`,
    );
    return rows.length;
  }
}
