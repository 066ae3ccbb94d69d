import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOutbox1763780000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE outbox (
        position     bigserial    PRIMARY KEY,
        source       varchar(64)  NOT NULL,
        item_id      varchar(256) NOT NULL,
        groups       jsonb,
        data         json         NOT NULL,
        created_at   timestamptz  NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        attempts     integer      NOT NULL DEFAULT 0,
        failed_at    timestamptz,
        last_error   text,
        UNIQUE (source, item_id)
      )`);
    await queryRunner.query('CREATE INDEX outbox_pending ON outbox (source, position) WHERE delivered_at IS NULL AND failed_at IS NULL');
    await queryRunner.query('CREATE INDEX outbox_delivered_at ON outbox (delivered_at) WHERE delivered_at IS NOT NULL');
    await queryRunner.query(`
      CREATE TABLE dead_letters (
        id         bigserial   PRIMARY KEY,
        source     varchar(64) NOT NULL,
        item       text        NOT NULL,
        item_hash  bytea       NOT NULL,
        reason     text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (source, item_hash)
      )`);
    await queryRunner.query(`
      CREATE TABLE source_cursors (
        source     varchar(64) PRIMARY KEY,
        cursor     jsonb       NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE source_leases (
        source     varchar(64) PRIMARY KEY,
        owner      varchar(64) NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['source_leases', 'source_cursors', 'dead_letters', 'outbox']) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
