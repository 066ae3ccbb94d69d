import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { LiveSocketEntity } from './live-socket.entity.js';
import { LiveSocketRepository, type SocketRef } from './live-socket.repository.js';

@Injectable()
export class TypeOrmLiveSocketRepository extends LiveSocketRepository {
  private readonly sockets: Repository<LiveSocketEntity>;

  constructor(dataSource: DataSource) {
    super();
    this.sockets = dataSource.getRepository(LiveSocketEntity);
  }

  async claimMany(claims: readonly SocketRef[], instanceId: string, leaseMs: number): Promise<ReadonlySet<string>> {
    // One statement, so two handshakes racing on any number of instances get exactly one winner. Rows are
    // taken in client order, so two instances claiming overlapping batches lock them in the same order and
    // cannot deadlock; a client deleted meanwhile (its token still cached elsewhere) simply does not win.
    const rows: Array<{ client_id: string }> = await this.sockets.query(
      `INSERT INTO live_sockets (client_id, socket_id, instance_id, connected_at, lease_expires_at)
       SELECT claim.client_id, claim.socket_id, $3, now(), now() + $4 * interval '1 millisecond'
         FROM unnest($1::varchar[], $2::varchar[]) AS claim(client_id, socket_id)
         JOIN clients ON clients.client_id = claim.client_id
        ORDER BY claim.client_id
       ON CONFLICT (client_id) DO UPDATE
          SET socket_id = EXCLUDED.socket_id, instance_id = EXCLUDED.instance_id,
              connected_at = EXCLUDED.connected_at, lease_expires_at = EXCLUDED.lease_expires_at
        WHERE live_sockets.lease_expires_at <= now()
       RETURNING client_id`,
      [claims.map((claim) => claim.clientId), claims.map((claim) => claim.socketId), instanceId, leaseMs],
    );
    return new Set(rows.map((row) => row.client_id));
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
