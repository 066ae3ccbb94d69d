import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTokenStore1763776800000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE clients (
        client_id      varchar(64) PRIMARY KEY,
        secret_hash    text        NOT NULL,
        default_groups text[]      NOT NULL DEFAULT '{}',
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE consumer_tokens (
        client_id    varchar(64) PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
        token_hash   bytea       NOT NULL,
        issued_at    timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE live_sockets (
        client_id        varchar(64) PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
        socket_id        varchar(64) NOT NULL,
        instance_id      varchar(64) NOT NULL,
        connected_at     timestamptz NOT NULL,
        lease_expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX live_sockets_instance_id ON live_sockets (instance_id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE live_sockets');
    await queryRunner.query('DROP TABLE consumer_tokens');
    await queryRunner.query('DROP TABLE clients');
  }
}
