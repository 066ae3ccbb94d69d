import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { BroadcastResult } from '@app/socket-registry';
import type { StoredEntity } from '../history/history-entry.js';
import { EntityHistory } from '../history/entity-history.service.js';
import { entityFrame } from '../protocol/index.js';
import { EntityBroker, type Publication, type PublicationOutcome } from './entity-broker.js';
import { EntityFanout } from './entity-fanout.js';
import { PublicationLog, type PublicationRecord } from './publication-log.js';

const PRUNE_EVERY_MS = 3_600_000;

/**
 * The broker of an instance that runs alone: the publication log in its
 * database gives each entity its `seq` and answers repeated ids, the history
 * records each entity before it is delivered, and the frames go straight to
 * the sockets open here.
 */
@Injectable()
export class LocalEntityBroker extends EntityBroker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LocalEntityBroker.name);
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly log: PublicationLog,
    private readonly fanout: EntityFanout,
    private readonly history: EntityHistory,
  ) {
    super();
  }

  async publish(batch: readonly Publication[]): Promise<PublicationOutcome[]> {
    const outcomes: PublicationOutcome[] = new Array(batch.length);
    // recorded together: the fresh ids take their seqs in the order of the batch
    const records = await this.log.recordAll(batch.map((publication) => publication.id));
    const fresh: Array<{ readonly index: number; readonly record: PublicationRecord }> = [];
    records.forEach((settled, index) => {
      if (settled.status === 'rejected') outcomes[index] = { status: 'failed', error: settled.reason };
      else if (settled.value.duplicate) outcomes[index] = { status: 'duplicate', seq: settled.value.seq };
      else fresh.push({ index, record: settled.value });
    });
    if (fresh.length === 0) return outcomes;
    // consumers get them in seq order, whatever order a log gave them in
    fresh.sort((a, b) => a.record.seq - b.record.seq);
    const entities: StoredEntity[] = fresh.map(({ index, record }) => {
      const { id, groups, dataText } = batch[index];
      return { seq: record.seq, id, groups, frame: entityFrame(id, record.seq, groups ?? [], dataText, record.publishedAt), publishedAt: record.publishedAt };
    });
    try {
      // in history before anyone receives it: a consumer recovering up to a delivered seq finds every entity below it
      await this.history.record(entities);
    } catch (error) {
      await Promise.all(fresh.map(({ index, record }) => this.forget(batch[index].id, record.seq)));
      for (const { index } of fresh) outcomes[index] = { status: 'failed', error };
      return outcomes;
    }
    let results: ReadonlyArray<BroadcastResult | undefined> = [];
    let failure: unknown;
    try {
      results = this.fanout.deliver(entities);
    } catch (error) {
      failure = error;
    }
    await Promise.all(
      fresh.map(async ({ index, record }, i) => {
        const result = results[i];
        if (result === undefined || result.error !== undefined) {
          await this.forget(batch[index].id, record.seq, true);
          outcomes[index] = { status: 'failed', error: result?.error ?? failure };
          return;
        }
        outcomes[index] = { status: 'published', seq: record.seq };
      }),
    );
    return outcomes;
  }

  /** Takes back the record of an entity whose broadcast failed, before its publisher is answered. */
  private async forget(id: string, seq: number, recorded = false): Promise<void> {
    try {
      await this.log.forget(id, seq);
      if (recorded) await this.history.forget(seq);
    } catch (error) {
      // the only way an id stays recorded undelivered: a retry within 24 h is answered as a duplicate
      this.logger.error(`entity ${id} (seq ${seq}) was not broadcast and its record could not be taken back: ${(error as Error).message}`);
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // nothing is in flight yet: every seq given out so far is recorded in history, or was never delivered
    const [newest, highest] = await Promise.all([this.history.newest(), this.log.highestSeq()]);
    this.history.start(newest, highest);
    this.pruneTimer = setInterval(() => {
      this.log.prune().catch((error: Error) => this.logger.warn(`could not prune publications: ${error.message}`));
    }, PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruneTimer);
  }
}
