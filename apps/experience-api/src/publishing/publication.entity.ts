import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One accepted entity id, kept for the idempotency window so that a publisher
 * retrying the same id gets its first `seq` back instead of a second broadcast.
 */
@Entity({ name: 'publications' })
export class PublicationEntity {
  @PrimaryColumn({ type: 'varchar', length: 256 })
  id: string;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ name: 'published_at', type: 'timestamptz' })
  publishedAt: Date;
}
