import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An outbound socket an operator asked for, kept so that it is reopened after
 * a restart. `owner` is the instance that holds it open, by a lease it renews;
 * a row whose lease ran out (or has no owner) is taken by the next instance
 * that looks.
 */
@Entity({ name: 'outbound_sockets' })
export class OutboundSocketEntity {
  @PrimaryColumn({ name: 'socket_id', type: 'varchar', length: 64 })
  socketId: string;

  @Column({ type: 'text' })
  url: string;

  /** As given: they may carry credentials, and are never logged nor shown. */
  @Column({ type: 'jsonb' })
  headers: Record<string, string>;

  @Column({ type: 'text', array: true })
  groups: string[];

  @Column({ name: 'relay_to_groups', type: 'text', array: true, nullable: true })
  relayToGroups: string[] | null;

  @Column({ name: 'initial_delay_ms', type: 'integer' })
  initialDelayMs: number;

  @Column({ name: 'max_delay_ms', type: 'integer' })
  maxDelayMs: number;

  @Column({ type: 'integer' })
  attempts: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  owner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /** The state its owner last reported: what other instances show. */
  @Column({ type: 'varchar', length: 16 })
  state: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
