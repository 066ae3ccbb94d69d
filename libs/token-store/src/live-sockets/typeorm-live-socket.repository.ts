import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { queryPrepared } from '@app/database';
import { handshakeCredentials } from '../tokens/typeorm-consumer-token.repository.js';
import type { HandshakeCredentials } from '../tokens/consumer-token.repository.js';
import { LiveSocketEntity } from './live-socket.entity.js';
import { type ClaimAnswers, type ClaimRef, LiveSocketRepository, type SocketRef } from './live-socket.repository.js';

@Injectable()
export class TypeOrmLiveSocketRepository extends LiveSocketRepository {
  private readonly sockets: Repository<LiveSocketEntity>;

  constructor(private readonly dataSource: DataSource) {
    super();
    this.sockets = dataSource.getRepository(LiveSocketEntity);
  }

  async claimMany(claims: readonly ClaimRef[], instanceId: string, leaseMs: number, tokenIdleTtlMs: number): Promise<ClaimAnswers> {
    // One statement, so two handshakes racing on any number of instances get exactly one winner. Rows are
    // taken in client order, so two instances claiming overlapping batches lock them in the same order and
    // cannot deadlock; a client deleted meanwhile (its token still cached elsewhere) simply does not win.
    // A claim with a token hash is also the handshake's token check: it is written only for a live token of
    // that hash, and the stored credentials come back (the caller compares them again, in constant time).
    const rows = await queryPrepared<Record<string, unknown>>(
      this.dataSource,
      'live_sockets_claim',
      `WITH offered AS (
         SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::text[]) AS offered(client_id, socket_id, token_hex)
       ), stored AS (
         SELECT t.client_id, t.token_hash, c.grants, c.default_groups,
                t.last_seen_at + $6 * interval '1 millisecond' <= now() AS expired,
                extract(epoch FROM t.last_seen_at + $6 * interval '1 millisecond' - now()) * 1000 AS remaining_ms
           FROM offered JOIN consumer_tokens t ON t.client_id = offered.client_id JOIN clients c ON c.client_id = t.client_id
          WHERE offered.token_hex IS NOT NULL
       ), claimed AS (
         INSERT INTO live_sockets (client_id, socket_id, instance_id, connected_at, lease_expires_at)
         SELECT offered.client_id, offered.socket_id, $4, now(), now() + $5 * interval '1 millisecond'
           FROM offered JOIN clients ON clients.client_id = offered.client_id
          WHERE offered.token_hex IS NULL
             OR EXISTS (SELECT 1 FROM stored
                         WHERE stored.client_id = offered.client_id AND NOT stored.expired
                           AND stored.token_hash = decode(offered.token_hex, 'hex'))
          ORDER BY offered.client_id
         ON CONFLICT (client_id) DO UPDATE
            SET socket_id = EXCLUDED.socket_id, instance_id = EXCLUDED.instance_id,
                connected_at = EXCLUDED.connected_at, lease_expires_at = EXCLUDED.lease_expires_at
          WHERE live_sockets.lease_expires_at <= now()
         RETURNING client_id
       )
       SELECT offered.client_id, claimed.client_id IS NOT NULL AS won,
              stored.token_hash, stored.grants, stored.default_groups, stored.expired, stored.remaining_ms
         FROM offered LEFT JOIN claimed ON claimed.client_id = offered.client_id LEFT JOIN stored ON stored.client_id = offered.client_id`,
      [
        claims.map((claim) => claim.clientId),
        claims.map((claim) => claim.socketId),
        claims.map((claim) => claim.tokenHash?.toString('hex') ?? null),
        instanceId,
        leaseMs,
        tokenIdleTtlMs,
      ],
    );
    const won = new Set<string>();
    const credentials = new Map<string, HandshakeCredentials>();
    for (const row of rows) {
      const clientId = row.client_id as string;
      if (row.won === true) won.add(clientId);
      if (row.token_hash !== null && row.token_hash !== undefined) credentials.set(clientId, handshakeCredentials(row));
    }
    return { won, credentials };
  }

  async releaseMany(sockets: readonly SocketRef[]): Promise<void> {
    await this.sockets.query(
      `DELETE FROM live_sockets USING unnest($1::varchar[], $2::varchar[]) AS gone(client_id, socket_id)
        WHERE live_sockets.client_id = gone.client_id AND live_sockets.socket_id = gone.socket_id`,
      [sockets.map((socket) => socket.clientId), sockets.map((socket) => socket.socketId)],
    );
  }

  async renewInstance(instanceId: string, leaseMs: number): Promise<void> {
    await this.sockets.query(`UPDATE live_sockets SET lease_expires_at = now() + $2 * interval '1 millisecond' WHERE instance_id = $1`, [instanceId, leaseMs]);
  }

  async releaseInstance(instanceId: string): Promise<void> {
    await this.sockets.delete({ instanceId });
  }

  async findLiveByClientId(clientId: string): Promise<LiveSocketEntity | null> {
    // a row whose lease ran out belongs to a dead instance: that socket is gone
    const rows: Array<Record<string, unknown>> = await this.sockets.query(
      'SELECT socket_id, instance_id, connected_at FROM live_sockets WHERE client_id = $1 AND lease_expires_at > now()',
      [clientId],
    );
    if (rows.length === 0) return null;
    return Object.assign(new LiveSocketEntity(), {
      clientId,
      socketId: rows[0].socket_id as string,
      instanceId: rows[0].instance_id as string,
      connectedAt: new Date(rows[0].connected_at as string),
    });
  }
}
