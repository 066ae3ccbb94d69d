import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One token per client: registering again replaces it. */
@Entity({ name: 'consumer_tokens' })
export class ConsumerTokenEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  /** SHA-256 of the token; the token itself is never stored. */
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt: Date;

  /** Start of the idle clock: registration, or the consumer's last connection. */
  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt: Date;
}
