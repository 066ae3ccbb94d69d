import { Module } from '@nestjs/common';
import { LeaseRepository } from './lease.repository.js';
import { SourceLeases } from './source-leases.js';
import { TypeOrmLeaseRepository } from './typeorm-lease.repository.js';

/** Which instance reads and forwards each source. Needs a DataSource from DatabaseModule. */
@Module({
  providers: [{ provide: LeaseRepository, useClass: TypeOrmLeaseRepository }, SourceLeases],
  exports: [SourceLeases],
})
export class LeasesModule {}
