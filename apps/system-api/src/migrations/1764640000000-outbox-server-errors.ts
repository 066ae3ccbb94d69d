import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Counts the 5xx answers an item got from experience-api, so that its retries are bounded across restarts and instances. */
export class OutboxServerErrors1764640000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox ADD COLUMN server_errors integer NOT NULL DEFAULT 0');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox DROP COLUMN server_errors');
  }
}
