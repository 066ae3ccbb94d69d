import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The one open connection a client may have, across all instances. A row is
 * held by a lease its instance keeps renewing; a row whose lease ran out
 * belongs to a dead instance and may be claimed again.
 */
@Entity({ name: 'live_sockets' })
export class LiveSocketEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'socket_id', type: 'varchar', length: 64 })
  socketId: string;

  @Index('live_sockets_instance_id')
  @Column({ name: 'instance_id', type: 'varchar', length: 64 })
  instanceId: string;

  @Column({ name: 'connected_at', type: 'timestamptz' })
  connectedAt: Date;

  @Column({ name: 'lease_expires_at', type: 'timestamptz' })
  leaseExpiresAt: Date;
}
