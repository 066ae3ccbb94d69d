import { TcpProxy } from '../support/net/tcp-proxy.js';
import { Pipeline } from '../support/pipeline/pipeline.js';
import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';

// system-api's own database goes away (a TCP relay between the two is cut, as a crash or a partition looks from
// system-api) while a source keeps producing; the Postgres server itself stays up for everyone else.

const target = new URL(localPostgresUrl);
const available = serviceAvailable(`Postgres at ${target.host}`, await postgresAnswers(localPostgresUrl));
const run = `${Date.now().toString(36)}-${process.pid}`;

(available ? describe : describe.skip)('system-api: its database goes away while items arrive', () => {
  const source = `db-outage-${run}`;
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  beforeAll(() => proxy.start());
  afterAll(() => proxy.cut());

  const pipeline = Pipeline.use({
    name: 'system-database-outage',
    mail: true,
    env: () => {
      const viaProxy = new URL(localPostgresUrl);
      viaProxy.port = String(proxy.port);
      return { DATABASE_URL: viaProxy.toString(), HEALTH_CHECK_INTERVAL: '200ms' };
    },
    sources: (inbox) => `
- name: ${source}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 100ms
  id: ref
  retry: {attempts: 100, initial_delay: 100ms, max_delay: 500ms}
`,
  });

  const drop = (name: string, items: unknown[]) => pipeline.drop(name, JSON.stringify(items));

  it(
    'answers 503 naming the database, alerts once, keeps what arrives meanwhile, and resolves when it is back',
    pipeline.logs(async () => {
      const { system, received, smtp } = pipeline;
      drop('before.json', [{ ref: 'b-1' }]);
      await eventually(() => received.ids(source).length === 1, 15_000);
      expect(await system.health()).toMatchObject({ httpStatus: 200, status: 'ok' });

      await proxy.cut();
      drop('during.json', [{ ref: 'd-1' }, { ref: 'd-2' }]);

      await eventually(async () => (await system.health()).httpStatus === 503, 10_000, 100, 'GET /health answering 503');
      const during = (await system.health()) as Awaited<ReturnType<typeof system.health>> & { checks: { database: { status: string } } };
      expect([during.status, during.checks.database.status, during.outbox]).toEqual(['error', 'down', null]);
      await eventually(() => pipeline.subjects().includes('[system-api] database unreachable'), 15_000, 100, 'the database alert mail');
      expect(smtp.mails.find((mail) => mail.subject === '[system-api] database unreachable')!.text).toContain('severity: critical');

      await proxy.start();

      await eventually(() => received.ids(source).length === 3, 30_000, 100, 'the items dropped during the outage');
      expect(received.ids(source)).toEqual([`${source}:b-1`, `${source}:d-1`, `${source}:d-2`]);
      expect(received.repeated(source)).toEqual([]);
      await eventually(() => pipeline.subjects().includes('[system-api] resolved: database unreachable'), 15_000, 100, 'the resolved mail');
      expect(await system.health()).toMatchObject({ httpStatus: 200, status: 'ok' });
      expect(pipeline.subjects().filter((subject) => /database unreachable/.test(subject))).toEqual([
        '[system-api] database unreachable',
        '[system-api] resolved: database unreachable',
      ]);
    }),
    90_000,
  );
});
