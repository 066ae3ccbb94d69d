import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  /** scrypt hash of the client secret; the secret itself is never stored. */
  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  /** The only groups the client's consumers may be in: names, or prefixes ending in `*`. */
  @Column({ name: 'grants', type: 'text', array: true, default: () => "'{}'" })
  grants: string[];

  /** The groups chosen at registration; null: the plain grants. */
  @Column({ name: 'default_groups', type: 'text', array: true, nullable: true })
  defaultGroups: string[] | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
