import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { ItemSink } from '../../sink/item-sink.js';
import { type StreamingSource, SourceUnavailableError } from '../source.js';
import type { AmqpSourceDefinition } from '../source-definition.js';

/**
 * Consumes a RabbitMQ queue. A message is acknowledged only after its item is
 * in the outbox; one that is not JSON is set aside and acknowledged; one that
 * cannot be stored (database away) goes back to the queue.
 */
export class AmqpSource implements StreamingSource {
  readonly mode = 'streaming';
  private connection?: ChannelModel;
  private unstored = 0;

  constructor(
    private readonly definition: AmqpSourceDefinition,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  async connect(sink: ItemSink, lost: (error: Error) => void): Promise<void> {
    let channel: Channel;
    let connection: ChannelModel;
    try {
      connection = this.connection = await amqp.connect(this.env[this.definition.urlEnv] ?? '', { timeout: 10_000 });
      // errors arrive as events too (a missing queue closes the channel with a 404): the rejections below report them
      connection.on('error', () => undefined);
      channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.checkQueue(this.definition.queue);
      await channel.prefetch(this.definition.prefetch);
    } catch (error) {
      await this.close();
      throw new SourceUnavailableError(`cannot consume ${this.definition.queue}: ${(error as Error).message}`);
    }
    connection.on('close', () => {
      if (this.connection === connection) lost(new SourceUnavailableError('the RabbitMQ connection closed'));
    });
    channel.on('close', () => {
      if (this.connection === connection) lost(new SourceUnavailableError(`the channel consuming ${this.definition.queue} closed`));
    });
    // one message at a time, in queue order: concurrent stores would reach the outbox out of order.
    // A failed ack or nack means the channel is gone, which its 'close' reports.
    let chain = Promise.resolve();
    await channel.consume(this.definition.queue, (message) => {
      if (!message) return;
      this.unstored++;
      chain = chain
        .then(() => this.handle(channel, message, sink))
        .catch(() => undefined)
        .finally(() => this.unstored--);
    });
  }

  waiting(): number {
    return this.unstored;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async handle(channel: Channel, message: ConsumeMessage, sink: ItemSink): Promise<void> {
    const text = message.content.toString('utf8');
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch {
      try {
        await sink.setAside(text.slice(0, 4_096), 'the message is not JSON');
        channel.ack(message);
      } catch {
        channel.nack(message, false, true);
      }
      return;
    }
    try {
      await sink.store([item]);
      channel.ack(message);
    } catch {
      // not stored: RabbitMQ keeps it and hands it out again
      channel.nack(message, false, true);
    }
  }
}
