import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { LiveSocketEntity } from './live-socket.entity.js';
import { LiveSocketRepository, type SocketClaim } from './live-socket.repository.js';

@Injectable()
export class TypeOrmLiveSocketRepository extends LiveSocketRepository {
  private readonly sockets: Repository<LiveSocketEntity>;

  constructor(dataSource: DataSource) {
    super();
    this.sockets = dataSource.getRepository(LiveSocketEntity);
  }

  async claim(claim: SocketClaim): Promise<boolean> {
    // one statement, so two handshakes racing on any number of instances get exactly one winner
    const rows: unknown[] = await this.sockets.query(
      `INSERT INTO live_sockets (client_id, socket_id, instance_id, connected_at, lease_expires_at)
       VALUES ($1, $2, $3, now(), now() + $4 * interval '1 millisecond')
       ON CONFLICT (client_id) DO UPDATE
          SET socket_id = EXCLUDED.socket_id, instance_id = EXCLUDED.instance_id,
              connected_at = EXCLUDED.connected_at, lease_expires_at = EXCLUDED.lease_expires_at
        WHERE live_sockets.lease_expires_at <= now()
       RETURNING client_id`,
      [claim.clientId, claim.socketId, claim.instanceId, claim.leaseMs],
    );
    return rows.length === 1;
  }

  async release(clientId: string, socketId: string): Promise<void> {
    await this.sockets.delete({ clientId, socketId });
  }

  async renewInstance(instanceId: string, leaseMs: number): Promise<void> {
    await this.sockets.query(
      `UPDATE live_sockets SET lease_expires_at = now() + $2 * interval '1 millisecond' WHERE instance_id = $1`,
      [instanceId, leaseMs],
    );
  }

  async releaseInstance(instanceId: string): Promise<void> {
    await this.sockets.delete({ instanceId });
  }

  findByClientId(clientId: string): Promise<LiveSocketEntity | null> {
    return this.sockets.findOneBy({ clientId });
  }
}
