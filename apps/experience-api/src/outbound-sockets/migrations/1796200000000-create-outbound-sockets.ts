import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOutboundSockets1796200000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbound_sockets (
        socket_id        varchar(64) PRIMARY KEY,
        url              text        NOT NULL,
        headers          jsonb       NOT NULL DEFAULT '{}',
        groups           text[]      NOT NULL DEFAULT '{}',
        relay_to_groups  text[],
        initial_delay_ms integer     NOT NULL,
        max_delay_ms     integer     NOT NULL,
        attempts         integer     NOT NULL,
        owner            varchar(64),
        lease_expires_at timestamptz,
        state            varchar(16) NOT NULL DEFAULT 'connecting',
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX outbound_sockets_owner ON outbound_sockets (owner)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE outbound_sockets');
  }
}
