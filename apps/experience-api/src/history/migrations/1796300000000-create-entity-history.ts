import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The entities consumers recover from, by `seq`, and the history's own state:
 * its epoch (new whenever the history starts afresh) and the highest `seq`
 * pruned. A deployment that published before history existed starts with
 * everything up to its last `seq` counted as pruned: those positions are
 * answered `history_expired`, not replayed as if nothing had been missed.
 */
export class CreateEntityHistory1796300000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE entity_history (
        seq          bigint       PRIMARY KEY,
        id           varchar(256) NOT NULL,
        groups       text[],
        frame        text         NOT NULL,
        published_at timestamptz  NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX entity_history_published_at ON entity_history (published_at)');
    await queryRunner.query(`
      CREATE TABLE history_state (
        singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        epoch          text    NOT NULL,
        pruned_through bigint  NOT NULL
      )`);
    await queryRunner.query(`
      INSERT INTO history_state (epoch, pruned_through)
      SELECT gen_random_uuid()::text, CASE WHEN is_called THEN last_value ELSE 0 END FROM entity_seq`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE history_state');
    await queryRunner.query('DROP TABLE entity_history');
  }
}
