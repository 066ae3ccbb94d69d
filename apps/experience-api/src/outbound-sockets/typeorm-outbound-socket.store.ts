import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { queryRows } from '@app/database';
import type { SocketState } from '@app/socket-registry';
import type { OutboundSocketSpec, StoredOutboundSocket } from './outbound-socket.js';
import { OutboundSocketStore } from './outbound-socket.store.js';

const COLUMNS = `socket_id, url, headers, groups, relay_to_groups, initial_delay_ms, max_delay_ms, attempts,
  CASE WHEN lease_expires_at > now() THEN owner END AS owner, state, created_at`;

type Row = Record<string, unknown>;

/** The rows a statement returned: TypeORM answers an UPDATE or DELETE with `[rows, count]`, anything else with the rows. */
function fromRow(row: Row): StoredOutboundSocket {
  const headers = typeof row.headers === 'string' ? (JSON.parse(row.headers) as Record<string, string>) : (row.headers as Record<string, string>);
  return {
    socketId: row.socket_id as string,
    url: row.url as string,
    headers: headers ?? {},
    groups: (row.groups as string[] | null) ?? [],
    relayToGroups: (row.relay_to_groups as string[] | null) ?? null,
    reconnect: { initialDelayMs: Number(row.initial_delay_ms), maxDelayMs: Number(row.max_delay_ms), attempts: Number(row.attempts) },
    owner: (row.owner as string | null) ?? null,
    state: row.state as SocketState,
    createdAt: new Date(row.created_at as string),
  };
}

/** Outbound sockets in the `outbound_sockets` table; each write is one statement, atomic on Postgres and PGlite alike. */
@Injectable()
export class TypeOrmOutboundSocketStore extends OutboundSocketStore {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  private async rows(sql: string, parameters?: unknown[]): Promise<Row[]> {
    return queryRows<Row>(this.dataSource, sql, parameters);
  }

  async insert(spec: OutboundSocketSpec, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.rows(
      `INSERT INTO outbound_sockets
         (socket_id, url, headers, groups, relay_to_groups, initial_delay_ms, max_delay_ms, attempts, owner, lease_expires_at, state, created_at)
       VALUES ($1, $2, $3::jsonb, $4::text[], $5::text[], $6, $7, $8, $9, now() + $10 * interval '1 millisecond', 'connecting', now())
       ON CONFLICT (socket_id) DO NOTHING
       RETURNING 1`,
      [
        spec.socketId,
        spec.url,
        JSON.stringify(spec.headers),
        spec.groups,
        spec.relayToGroups,
        spec.reconnect.initialDelayMs,
        spec.reconnect.maxDelayMs,
        spec.reconnect.attempts,
        owner,
        leaseMs,
      ],
    );
    return rows.length === 1;
  }

  async count(): Promise<number> {
    const rows = await this.rows('SELECT count(*) AS n FROM outbound_sockets');
    return Number(rows[0].n);
  }

  async list(): Promise<StoredOutboundSocket[]> {
    const rows = await this.rows(`SELECT ${COLUMNS} FROM outbound_sockets ORDER BY created_at, socket_id`);
    return rows.map(fromRow);
  }

  async find(socketId: string): Promise<StoredOutboundSocket | null> {
    const rows = await this.rows(`SELECT ${COLUMNS} FROM outbound_sockets WHERE socket_id = $1`, [socketId]);
    return rows.length === 0 ? null : fromRow(rows[0]);
  }

  async remove(socketId: string): Promise<boolean> {
    const rows = await this.rows('DELETE FROM outbound_sockets WHERE socket_id = $1 RETURNING 1', [socketId]);
    return rows.length === 1;
  }

  async holds(socketId: string, owner: string): Promise<boolean> {
    const rows = await this.rows('SELECT 1 FROM outbound_sockets WHERE socket_id = $1 AND owner = $2', [socketId, owner]);
    return rows.length === 1;
  }

  async renew(owner: string, leaseMs: number): Promise<Set<string>> {
    // a lease that lapsed may have been taken by another instance already: only rows still ours are renewed
    const rows = await this.rows(`UPDATE outbound_sockets SET lease_expires_at = now() + $2 * interval '1 millisecond' WHERE owner = $1 RETURNING socket_id`, [
      owner,
      leaseMs,
    ]);
    return new Set(rows.map((row) => row.socket_id as string));
  }

  async claim(owner: string, leaseMs: number, limit: number): Promise<StoredOutboundSocket[]> {
    if (limit <= 0) return [];
    // the outer WHERE is checked again on each row once locked: two instances claiming at once never both win a row
    const rows = await this.rows(
      `UPDATE outbound_sockets SET owner = $1, lease_expires_at = now() + $2 * interval '1 millisecond', state = 'connecting'
        WHERE socket_id IN (
          SELECT socket_id FROM outbound_sockets
           WHERE owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= now()
           ORDER BY created_at, socket_id LIMIT $3)
          AND (owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= now())
        RETURNING ${COLUMNS}`,
      [owner, leaseMs, limit],
    );
    return rows.map(fromRow).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async setState(socketId: string, owner: string, state: SocketState): Promise<void> {
    await this.dataSource.query('UPDATE outbound_sockets SET state = $3 WHERE socket_id = $1 AND owner = $2', [socketId, owner, state]);
  }

  async release(owner: string): Promise<void> {
    await this.dataSource.query('UPDATE outbound_sockets SET owner = NULL, lease_expires_at = NULL WHERE owner = $1', [owner]);
  }
}
