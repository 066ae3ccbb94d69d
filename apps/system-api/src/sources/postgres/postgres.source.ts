import pg from 'pg';
import type { ItemSink } from '../../sink/item-sink.js';
import { type PolledSource, SourceUnavailableError } from '../source.js';
import type { PostgresSourceDefinition } from '../source-definition.js';

interface PostgresCursor {
  readonly value: string | number;
}

/**
 * Runs a query for rows past a persisted cursor (`$1`) and stores each row as
 * an item; the cursor moves to the last row's cursor column in the same
 * statement that stores the rows, so a crash never skips or repeats a row.
 */
export class PostgresSource implements PolledSource {
  readonly mode = 'polled';
  private pool?: pg.Pool;

  constructor(
    private readonly definition: PostgresSourceDefinition,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  async poll(sink: ItemSink, cursor: unknown): Promise<void> {
    const from = (cursor as PostgresCursor | undefined)?.value ?? this.definition.initialCursor;
    this.pool ??= new pg.Pool({ connectionString: this.env[this.definition.urlEnv], max: 1, connectionTimeoutMillis: 5_000, query_timeout: 30_000 });
    let rows: Array<Record<string, unknown>>;
    try {
      ({ rows } = await this.pool.query(this.definition.query, [from]));
    } catch (error) {
      throw new SourceUnavailableError(`query failed: ${(error as Error).message}`);
    }
    if (rows.length === 0) return;
    const last = rows[rows.length - 1][this.definition.cursorColumn];
    if (last === undefined || last === null) {
      throw new SourceUnavailableError(`the query's rows have no "${this.definition.cursorColumn}" column to move the cursor by`);
    }
    await sink.store(rows, { value: last instanceof Date ? last.toISOString() : (last as string | number) });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}
