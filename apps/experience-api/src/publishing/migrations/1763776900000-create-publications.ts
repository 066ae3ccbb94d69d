import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePublications1763776900000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE SEQUENCE entity_seq');
    await queryRunner.query(`
      CREATE TABLE publications (
        id           varchar(256) PRIMARY KEY,
        seq          bigint       NOT NULL DEFAULT nextval('entity_seq'),
        published_at timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX publications_published_at ON publications (published_at)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE publications');
    await queryRunner.query('DROP SEQUENCE entity_seq');
  }
}
