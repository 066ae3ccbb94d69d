import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Every item read from a source, kept until experience-api accepted it (and for the retention period after). */
@Entity({ name: 'outbox' })
export class OutboxEntryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  position: string;

  @Column({ type: 'varchar', length: 64 })
  source: string;

  @Column({ name: 'item_id', type: 'varchar', length: 256 })
  itemId: string;

  @Column({ type: 'jsonb', nullable: true })
  groups: string[] | null;

  /** `json`, not `jsonb`: the item is forwarded exactly as it was read, key order included. */
  @Column({ type: 'json' })
  data: unknown;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column({ type: 'integer' })
  attempts: number;

  /** Set when experience-api refused the item for good (a 4xx): it is a dead letter. */
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** 5xx answers experience-api gave this item (not 502/503/504): past the limit it is a dead letter. */
  @Column({ name: 'server_errors', type: 'integer' })
  serverErrors: number;
}

/** Items that could not become entities, set aside with the reason. */
@Entity({ name: 'dead_letters' })
export class DeadLetterEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  source: string;

  /** The item as read; a NUL character, which Postgres text cannot hold, is written as the six characters `\u0000`. */
  @Column({ type: 'text' })
  item: string;

  /** SHA-256 of the item: an upstream that serves the same bad item on every poll sets it aside once. */
  @Column({ name: 'item_hash', type: 'bytea' })
  itemHash: Buffer;

  @Column({ type: 'text' })
  reason: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** Where each source got to: a cursor value, an ETag. */
@Entity({ name: 'source_cursors' })
export class SourceCursorEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  source: string;

  @Column({ type: 'jsonb' })
  cursor: unknown;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
