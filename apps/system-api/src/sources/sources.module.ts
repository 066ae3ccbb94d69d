import { Module } from '@nestjs/common';
import { LeasesModule } from '../leases/leases.module.js';
import { CountersModule } from '../counters/counters.module.js';
import { SinkModule } from '../sink/sink.module.js';
import { SourceRunner } from './source-runner.service.js';

/** The configured sources, each run by a worker that hands what it reads to its sink. */
@Module({
  imports: [SinkModule, LeasesModule, CountersModule],
  providers: [SourceRunner],
  exports: [SourceRunner],
})
export class SourcesModule {}
