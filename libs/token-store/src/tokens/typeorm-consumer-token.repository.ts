import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConsumerTokenRepository, type HandshakeCredentials } from './consumer-token.repository.js';

/** Expiry is computed with the database clock, which every instance shares. */
@Injectable()
export class TypeOrmConsumerTokenRepository extends ConsumerTokenRepository {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async replace(clientId: string, tokenHash: Buffer, idleTtlMs: number): Promise<Date> {
    const [row] = await this.dataSource.query(
      `INSERT INTO consumer_tokens (client_id, token_hash, issued_at, last_seen_at) VALUES ($1, $2, now(), now())
       ON CONFLICT (client_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, issued_at = now(), last_seen_at = now()
       RETURNING last_seen_at + $3 * interval '1 millisecond' AS expires_at`,
      [clientId, tokenHash, idleTtlMs],
    );
    return new Date(row.expires_at);
  }

  async findHandshakeCredentials(clientIds: readonly string[], idleTtlMs: number): Promise<Map<string, HandshakeCredentials>> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT t.client_id, t.token_hash, c.grants, c.default_groups,
              t.last_seen_at + $2 * interval '1 millisecond' <= now() AS expired,
              extract(epoch FROM t.last_seen_at + $2 * interval '1 millisecond' - now()) * 1000 AS remaining_ms
         FROM consumer_tokens t JOIN clients c ON c.client_id = t.client_id
        WHERE t.client_id = ANY($1::varchar[])`,
      [clientIds, idleTtlMs],
    );
    return new Map(rows.map((row) => [row.client_id as string, handshakeCredentials(row)]));
  }

  async touch(clientIds: readonly string[]): Promise<void> {
    await this.dataSource.query('UPDATE consumer_tokens SET last_seen_at = now() WHERE client_id = ANY($1::varchar[])', [clientIds]);
  }
}

/** A row of `consumer_tokens` joined with its client, as a handshake needs it. */
export function handshakeCredentials(row: Record<string, unknown>): HandshakeCredentials {
  return {
    tokenHash: Buffer.from(row.token_hash as Uint8Array),
    expired: row.expired === true,
    remainingMs: Number(row.remaining_ms),
    grants: (row.grants as string[] | null) ?? [],
    defaultGroups: (row.default_groups as string[] | null) ?? null,
  };
}
