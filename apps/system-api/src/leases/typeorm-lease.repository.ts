import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LeaseRepository } from './lease.repository.js';

/** Leases in the `source_leases` table; each write is one statement, atomic on Postgres and PGlite alike. */
@Injectable()
export class TypeOrmLeaseRepository extends LeaseRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async hold(source: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO source_leases (source, owner, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (source) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
        WHERE source_leases.owner = EXCLUDED.owner OR source_leases.expires_at <= now()
       RETURNING 1`,
      [source, owner, leaseMs],
    );
    return rows.length === 1;
  }

  async releaseAll(owner: string): Promise<void> {
    await this.dataSource.query('DELETE FROM source_leases WHERE owner = $1', [owner]);
  }
}
