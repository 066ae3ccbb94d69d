import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import newman, { type NewmanRunSummary } from 'newman';
import { ADMIN_TOKEN, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';

// The Postman collection an integrator imports runs the README's walkthrough against a real
// experience-api, every request's tests passing, as newman (Postman's runner) runs it in CI.

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../postman/${path}`, import.meta.url)), 'utf8'));
}

interface ItemGroup {
  readonly item?: readonly ItemGroup[];
}

const collection = readJson('push-gateway.postman_collection.json') as ItemGroup;

/** The requests of a folder and its folders. */
function requestsIn(group: ItemGroup): number {
  return group.item ? group.item.reduce((sum, item) => sum + requestsIn(item), 0) : 1;
}

function runCollection(baseUrl: string): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection: collection as never,
        environment: readJson('local.postman_environment.json') as never,
        envVar: [
          { key: 'baseUrl', value: baseUrl },
          { key: 'adminToken', value: ADMIN_TOKEN },
        ],
        timeoutRequest: 10_000,
      },
      (error, summary) => (error ? reject(error) : resolve(summary)),
    );
  });
}

/** One line per failed assertion or error, naming the request. */
function describeFailures(summary: NewmanRunSummary): string[] {
  return summary.run.failures.map((failure) => {
    const source = (failure.source as { name?: string } | undefined)?.name ?? 'the collection';
    return `${source}: ${failure.error.name}: ${failure.error.message}`;
  });
}

describe('postman/push-gateway.postman_collection.json', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startExperienceApi();
  });

  afterAll(async () => {
    await api?.close();
  });

  it('runs the walkthrough against experience-api with every test passing, twice in a row', async () => {
    for (let run = 0; run < 2; run++) {
      const summary = await runCollection(api.httpUrl);
      expect(describeFailures(summary)).toEqual([]);
      const requests = requestsIn(collection);
      expect(requests).toBeGreaterThanOrEqual(10);
      expect(summary.run.stats.requests.total).toBe(requests);
      expect(summary.run.stats.requests.failed).toBe(0);
      expect(summary.run.stats.assertions.failed).toBe(0);
      // every request checks its status and its body
      expect(summary.run.stats.assertions.total).toBeGreaterThanOrEqual(2 * requests);
    }
  });
});
