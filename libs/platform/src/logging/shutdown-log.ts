import { Injectable, Logger, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';

/**
 * Says when an app begins to stop and when it has stopped. `onModuleDestroy`
 * is the first hook of a shutdown (no component of ours uses it), so the first
 * line comes before any component drains; the signal is only handed to the
 * later hooks, so it is named on the last line.
 */
@Injectable()
export class ShutdownLog implements OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(ShutdownLog.name);

  onModuleDestroy(): void {
    this.logger.log('stopping');
  }

  onApplicationShutdown(signal?: string): void {
    this.logger.log(signal ? `stopped (${signal})` : 'stopped');
  }
}
