import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Which instance reads and forwards a source, held by a lease it renews. */
@Entity({ name: 'source_leases' })
export class SourceLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  source: string;

  @Column({ type: 'varchar', length: 64 })
  owner: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
