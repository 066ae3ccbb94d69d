import type { DynamicModule } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { SourceLeaseEntity } from '../leases/source-lease.entity.js';
import { CreateOutbox1763780000000 } from '../migrations/1763780000000-create-outbox.js';
import { OutboxServerErrors1764640000000 } from '../migrations/1764640000000-outbox-server-errors.js';
import { DeadLetterEntity, OutboxEntryEntity, SourceCursorEntity } from '../outbox/outbox.entities.js';

/** system-api's tables for repository specs: in-memory PGlite, or the Postgres named by DATABASE_URL, migrated either way. */
export function outboxDatabase(applicationName: string): DynamicModule {
  const databaseUrl = process.env.DATABASE_URL;
  return DatabaseModule.forRoot({
    url: databaseUrl ? new URL(databaseUrl) : undefined,
    pgliteDataDir: 'memory://',
    applicationName,
    migrationsTableName: 'system_api_migrations',
    entities: [OutboxEntryEntity, DeadLetterEntity, SourceCursorEntity, SourceLeaseEntity],
    migrations: [CreateOutbox1763780000000, OutboxServerErrors1764640000000],
  });
}
