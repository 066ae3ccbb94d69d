import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A client's groups become its grants; the groups its consumers join by
 * default are kept apart, NULL meaning "its plain grants".
 */
export class ClientGrants1764680000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE clients RENAME COLUMN default_groups TO grants');
    await queryRunner.query('ALTER TABLE clients ADD COLUMN default_groups text[]');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE clients DROP COLUMN default_groups');
    await queryRunner.query('ALTER TABLE clients RENAME COLUMN grants TO default_groups');
  }
}
