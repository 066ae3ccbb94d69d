import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/time/eventually.js';
import { startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { SystemApiProcess } from '../support/processes/system-api.js';

// a name of its own per run: on Postgres the outbox and experience-api's idempotency outlive a run
const source = `logs-${process.pid}-${Date.now().toString(36)}`;

interface LogRecord {
  readonly time: string;
  readonly level: string;
  readonly app: string;
  readonly pid: number;
  readonly context: string | null;
  readonly message: string;
}

/** Every line the process printed, parsed; throws on a line that is not JSON. */
function records(system: SystemApiProcess): LogRecord[] {
  return system.log
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogRecord);
}

describe('system-api with LOG_FORMAT=json', () => {
  let experience: RunningExperienceApi;
  let system: SystemApiProcess;
  let workDir: string;

  beforeAll(async () => {
    experience = await startExperienceApi();
    workDir = mkdtempSync(join(tmpdir(), 'system-logs-'));
    mkdirSync(join(workDir, 'inbox'));
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: experience.httpUrl,
      env: { LOG_FORMAT: 'json' },
      sources: `
- name: ${source}
  type: directory
  path: ${join(workDir, 'inbox')}
  interval: 200ms
  settle: 100ms
  id: ref
`,
    });
    await system.start();
  });
  afterAll(async () => {
    await system?.stop();
    await experience?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('writes one JSON object per line, a line per forwarded batch among them, and the shutdown', async () => {
    writeFileSync(join(workDir, 'inbox', 'two.ndjson'), `${JSON.stringify({ ref: 'a-1' })}\n${JSON.stringify({ ref: 'a-2' })}\n`);

    const forwarded = () => records(system).filter((record) => record.context === 'OutboxForwarder' && record.message.startsWith('forwarded '));
    await eventually(() => forwarded().reduce((sum, record) => sum + Number(/^forwarded (\d+)/.exec(record.message)?.[1]), 0) === 2);
    expect(forwarded()[0]).toMatchObject({ level: 'info', app: 'system-api', message: expect.stringContaining(`of ${source} (${source}:a-1`) });

    await system.stop();

    const all = records(system);
    for (const record of all) {
      expect(record).toMatchObject({ app: 'system-api', level: expect.stringMatching(/^(fatal|error|warn|info|debug|verbose)$/), pid: expect.any(Number) });
      expect(new Date(record.time).toISOString()).toBe(record.time);
    }
    expect(all.map((record) => record.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^listening on /)]));
    const shutdown = all.filter((record) => record.context === 'ShutdownLog').map((record) => record.message);
    expect(shutdown).toEqual(['stopping', 'stopped (SIGTERM)']);
    expect(system.log).not.toContain('\x1b[');
  });
});
