import amqp from 'amqplib';
import { amqpAnswers, localAmqpUrl, serviceAvailable } from '../../../../../test/support/processes/services.js';
import { eventually } from '../../../../../test/support/time/eventually.js';
import type { ItemSink } from '../../sink/item-sink.js';
import { SourceUnavailableError } from '../source.js';
import type { AmqpSourceDefinition } from '../source-definition.js';
import { AmqpSource } from './amqp.source.js';

/** A sink that keeps what it is given. */
class KeptItems implements ItemSink {
  readonly items: unknown[] = [];
  async store(rawItems: readonly unknown[]): Promise<void> {
    this.items.push(...rawItems);
  }
  async setAside(): Promise<void> {}
}

(serviceAvailable('RabbitMQ', await amqpAnswers(localAmqpUrl)) ? describe : describe.skip)(`${AmqpSource.name}, on RabbitMQ`, () => {
  const definition = (queue: string) => ({ name: 'orders', type: 'amqp', urlEnv: 'AMQP_URL', queue, prefetch: 10 }) as unknown as AmqpSourceDefinition;
  const env = { AMQP_URL: localAmqpUrl };

  it('reports a queue that does not exist as the source being unavailable, naming the queue, without an unhandled error', async () => {
    const queue = `missing-${Date.now()}`;
    const sut = new AmqpSource(definition(queue), env);
    const unhandled: unknown[] = [];
    const record = (error: unknown) => unhandled.push(error);
    process.on('uncaughtException', record);
    try {
      const connecting = sut.connect(new KeptItems(), () => undefined);

      await expect(connecting).rejects.toBeInstanceOf(SourceUnavailableError);
      await expect(connecting).rejects.toThrow(queue);
      // the broker closes the channel with a 404; an 'error' event nobody listens to would arrive about now
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
      await sut.close();
    }
  });

  it('consumes the queue once it exists', async () => {
    const queue = `late-${Date.now()}`;
    const sut = new AmqpSource(definition(queue), env);
    const sink = new KeptItems();
    await expect(sut.connect(sink, () => undefined)).rejects.toBeInstanceOf(SourceUnavailableError);
    const connection = await amqp.connect(localAmqpUrl);
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    try {
      await sut.connect(sink, () => undefined);
      channel.sendToQueue(queue, Buffer.from('{"ref":"late-1"}'));

      await eventually(() => sink.items.length > 0, 5_000);
      expect(sink.items).toEqual([{ ref: 'late-1' }]);
    } finally {
      await sut.close();
      await connection.close();
    }
  });
});
