import { Cluster } from '../support/cluster/cluster.js';
import { ConnectedConsumer, createConsumer, deliveryProblems } from '../support/cluster/consumers.js';
import type { ExperienceApiProcess } from '../support/cluster/experience-api-process.js';
import { localPostgresUrl, localRedisUrl, postgresAnswers, redisAnswers, serviceAvailable } from '../support/processes/services.js';
import { expectExactly } from '../support/time/expect-exactly.js';

const available =
  serviceAvailable(`Postgres at ${new URL(localPostgresUrl).host}`, await postgresAnswers(localPostgresUrl)) &&
  serviceAvailable(`Redis at ${new URL(localRedisUrl).host}`, await redisAnswers(localRedisUrl));

interface ItemResult {
  id?: string;
  seq?: number;
  duplicate?: boolean;
  error?: string;
}

async function postEntities(instance: ExperienceApiProcess, entities: unknown[]): Promise<ItemResult[]> {
  const response = await fetch(`${instance.httpUrl}/entities`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(entities),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /entities on ${instance.name}: ${response.status} ${text}`);
  return (JSON.parse(text) as { results: ItemResult[] }).results;
}

// Two experience-api processes in cluster mode over one Redis: POST /entities to either goes through the Redis stream in array order.
(available ? describe : describe.skip)('a cluster of two instances publishes POST /entities as one', () => {
  const cluster = Cluster.use({ name: 'cluster_bulk', redis: { url: localRedisUrl }, size: 2 });

  it(
    'consumers on both instances receive every entity of requests sent to both at once, each once, in seq order, with seqs rising in array order',
    cluster.logs(async () => {
      const consumers: ConnectedConsumer[] = [];
      for (const instance of cluster.instances) consumers.push(cluster.track(await ConnectedConsumer.open(instance, await createConsumer(instance))));
      const prefix = `bulk-${Date.now().toString(36)}-`;
      const requests = Array.from({ length: 6 }, (_, r) => Array.from({ length: 200 }, (_, n) => ({ id: `${prefix}${r}-${n}`, data: { r, n } })));

      // three requests to each instance, all in flight together
      const answers = await Promise.all(requests.map((entities, r) => postEntities(cluster.instances[r % 2], entities)));
      for (const [r, results] of answers.entries()) {
        expect(results.map((result) => result.id)).toEqual(requests[r].map((entity) => entity.id));
        expect(results.every((result) => result.duplicate === undefined && result.error === undefined)).toBe(true);
        expect(results.every((result, i) => i === 0 || result.seq! > results[i - 1].seq!)).toBe(true);
      }
      const accepted = answers.flat().map((result) => ({ id: result.id!, seq: result.seq! }));
      expect(new Set(accepted.map((entity) => entity.seq)).size).toBe(1_200);

      // the same ids again, on the other instance: duplicates everywhere, with their first seqs
      const again = await postEntities(cluster.b, requests[0].slice(0, 50));
      expect(again).toEqual(answers[0].slice(0, 50).map((result) => ({ ...result, duplicate: true })));

      await Promise.all(
        consumers.map((consumer) => expectExactly(1_200, () => consumer.of(prefix).length, { timeoutMs: 30_000, describe: () => consumer.toString() })),
      );
      const problems = consumers.map((consumer) => [consumer.toString(), deliveryProblems(consumer.of(prefix), accepted)]);
      expect(problems.filter(([, found]) => found.length > 0)).toEqual([]);
    }),
    60_000,
  );
});
