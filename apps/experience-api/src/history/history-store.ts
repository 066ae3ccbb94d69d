import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryPrepared, queryRows } from '@app/database';
import type { HistoryEntry, StoredEntity } from './history-entry.js';

/** What the history is: its epoch, and the highest `seq` that may have been pruned from it. */
export interface HistoryState {
  readonly epoch: string;
  readonly prunedThrough: number;
}

/** Which entries a read is after: `seq` in (after, upTo], for a consumer in these groups. */
export interface HistoryRange {
  readonly after: number;
  readonly upTo: number;
  readonly groups: readonly string[];
}

/**
 * The entity history in the database, shared by every instance: each entity
 * by `seq`, with its groups and its frame, until pruned.
 */
export abstract class HistoryStore {
  /** Stores entities (distinct, new `seq`s) in one statement. */
  abstract append(entities: readonly StoredEntity[]): Promise<void>;
  /** Takes back an entity that was never delivered. */
  abstract remove(seq: number): Promise<void>;
  /** How many entries a consumer in `groups` is owed in the range, counting no further than `cap`. */
  abstract count(range: HistoryRange, cap: number): Promise<number>;
  /** The entries of the range a consumer in `groups` is owed, in `seq` order, at most `limit`. */
  abstract read(range: HistoryRange, limit: number): Promise<HistoryEntry[]>;
  /** The newest entries, at most `limit`, in `seq` order. */
  abstract newest(limit: number): Promise<HistoryEntry[]>;
  abstract state(): Promise<HistoryState>;
  /**
   * Deletes, up to `chunk` at a time, the entries published before
   * `publishedBefore` and all but the newest `keep`; returns how many went and
   * the state after.
   */
  abstract prune(publishedBefore: Date, keep: number, chunk: number): Promise<{ readonly removed: number; readonly state: HistoryState }>;
}

interface EntryRow {
  seq: string | number;
  groups: string[] | string | null;
  frame: string;
}

/** A consumer's groups, as the JSON text the statements expand into an array: one parameter, whatever the driver. */
const GROUPS_ARRAY = (parameter: string): string => `ARRAY(SELECT jsonb_array_elements_text(${parameter}::jsonb))`;
const IN_RANGE = `seq > $1 AND seq <= $2 AND (groups IS NULL OR groups && ${GROUPS_ARRAY('$3')})`;

@Injectable()
export class TypeOrmHistoryStore extends HistoryStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async append(entities: readonly StoredEntity[]): Promise<void> {
    if (entities.length === 0) return;
    const rows = entities.map((entity) => ({
      seq: entity.seq,
      id: entity.id,
      groups: entity.groups ?? null,
      frame: entity.frame.toString('utf8'),
      published_at: entity.publishedAt.toISOString(),
    }));
    await queryPrepared(
      this.dataSource,
      'append_history',
      `INSERT INTO entity_history (seq, id, groups, frame, published_at)
       SELECT e.seq, e.id, CASE WHEN e.groups IS NULL THEN NULL ELSE ${GROUPS_ARRAY('e.groups')} END, e.frame, e.published_at
         FROM jsonb_to_recordset($1::jsonb) AS e(seq bigint, id text, groups jsonb, frame text, published_at timestamptz)
       ON CONFLICT (seq) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }

  async remove(seq: number): Promise<void> {
    await this.dataSource.query('DELETE FROM entity_history WHERE seq = $1', [seq]);
  }

  async count(range: HistoryRange, cap: number): Promise<number> {
    const [row] = await queryPrepared<{ n: string | number }>(
      this.dataSource,
      'count_history',
      `SELECT count(*) AS n FROM (SELECT 1 FROM entity_history WHERE ${IN_RANGE} LIMIT $4) owed`,
      [range.after, range.upTo, JSON.stringify(range.groups), cap],
    );
    return Number(row.n);
  }

  async read(range: HistoryRange, limit: number): Promise<HistoryEntry[]> {
    const rows = await queryPrepared<EntryRow>(
      this.dataSource,
      'read_history',
      `SELECT seq, groups, frame FROM entity_history WHERE ${IN_RANGE} ORDER BY seq LIMIT $4`,
      [range.after, range.upTo, JSON.stringify(range.groups), limit],
    );
    return rows.map(toEntry);
  }

  async newest(limit: number): Promise<HistoryEntry[]> {
    if (limit === 0) return [];
    const rows = await this.dataSource.query<EntryRow[]>('SELECT seq, groups, frame FROM entity_history ORDER BY seq DESC LIMIT $1', [limit]);
    return rows.map(toEntry).reverse();
  }

  async state(): Promise<HistoryState> {
    const [row] = await this.dataSource.query<Array<{ epoch: string; pruned_through: string | number }>>('SELECT epoch, pruned_through FROM history_state');
    return { epoch: row.epoch, prunedThrough: Number(row.pruned_through) };
  }

  async prune(publishedBefore: Date, keep: number, chunk: number): Promise<{ readonly removed: number; readonly state: HistoryState }> {
    const [row] = await queryRows<{ epoch: string; pruned_through: string | number; removed: string | number }>(
      this.dataSource,
      `WITH doomed AS (
         DELETE FROM entity_history WHERE seq IN (
           SELECT seq FROM entity_history
            WHERE published_at < $1
               OR seq <= (SELECT seq FROM entity_history ORDER BY seq DESC OFFSET $2 LIMIT 1)
            ORDER BY seq LIMIT $3)
         RETURNING seq)
       UPDATE history_state SET pruned_through = GREATEST(pruned_through, (SELECT max(seq) FROM doomed))
       RETURNING epoch, pruned_through, (SELECT count(*) FROM doomed) AS removed`,
      [publishedBefore.toISOString(), keep, chunk],
    );
    return { removed: Number(row.removed), state: { epoch: row.epoch, prunedThrough: Number(row.pruned_through) } };
  }
}

function toEntry(row: EntryRow): HistoryEntry {
  return { seq: Number(row.seq), groups: row.groups === null ? undefined : parseTextArray(row.groups), frame: Buffer.from(row.frame, 'utf8') };
}

/** A `text[]` as the driver hands it over: already a list (pg), or Postgres's array literal (some drivers). */
function parseTextArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.slice(1, -1);
  if (inner === '') return [];
  // group names match GROUP_PATTERN: no quotes, commas or braces, so the literal is a plain list
  return inner.split(',').map((group) => group.replace(/^"(.*)"$/, '$1'));
}
