import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/time/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { SystemApiProcess } from '../support/processes/system-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

// a name of its own per run: on Postgres the outbox and experience-api's idempotency outlive a run
const source = `drops-${process.pid}-${Date.now().toString(36)}`;

/** Dead letters of this suite's source, from /metrics (the /health count covers every source in the database). */
async function deadLetters(system: SystemApiProcess): Promise<number> {
  const text = await (await fetch(`${await system.url}/metrics`)).text();
  return Number(new RegExp(`^system_api_dead_letters_total\\{source="${source}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

describe('system-api: a directory source', () => {
  let experience: RunningExperienceApi;
  let system: SystemApiProcess;
  let consumer: TestSocket;
  let workDir: string;
  let inbox: string;

  beforeAll(async () => {
    experience = await startExperienceApi();
    const credentials = await createConsumer(experience);
    consumer = await TestSocket.open(`${experience.wsUrl}/ws/publish`, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    await consumer.next();
    workDir = mkdtempSync(join(tmpdir(), 'system-directory-'));
    inbox = join(workDir, 'inbox');
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: experience.httpUrl,
      sources: `
- name: ${source}
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 300ms
  id: ref
`,
    });
    mkdirSync(inbox);
    await system.start();
  });
  afterAll(async () => {
    consumer?.socket.terminate();
    await system?.stop();
    await experience?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('delivers the items of JSON and NDJSON files once each, and moves the files to processed/', async () => {
    writeFileSync(join(inbox, 'one.json'), JSON.stringify({ ref: 'a-1', amount: 10 }));
    writeFileSync(join(inbox, 'many.ndjson'), `${JSON.stringify({ ref: 'a-2' })}\n${JSON.stringify({ ref: 'a-3' })}\n`);

    const frames = [await consumer.next(), await consumer.next(), await consumer.next()];
    expect(frames.map((f) => f.id).sort()).toEqual([`${source}:a-1`, `${source}:a-2`, `${source}:a-3`]);
    expect(frames.find((f) => f.id === `${source}:a-1`)?.data).toEqual({ ref: 'a-1', amount: 10 });
    await eventually(() => readdirSync(join(inbox, 'processed')).length === 2, 5_000);
    expect(readdirSync(inbox).filter((name) => !['processed', 'failed'].includes(name))).toEqual([]);
  });

  it('sets a malformed file aside in failed/ and goes on with the rest', async () => {
    writeFileSync(join(inbox, 'broken.json'), '{"ref": "b-1", ');
    writeFileSync(join(inbox, 'fine.json'), JSON.stringify({ ref: 'b-2' }));

    expect((await consumer.next()).id).toBe(`${source}:b-2`);
    await eventually(() => readdirSync(join(inbox, 'failed')).includes('broken.json'), 5_000);
    expect(await deadLetters(system)).toBe(1);
  });

  it('does not read a file that is still being written', async () => {
    const file = join(inbox, 'slow.ndjson');
    writeFileSync(file, `${JSON.stringify({ ref: 'c-1' })}\n{"ref": "c-`);
    // still being written for as long as the test says: its last write stays within the settle time
    const writing = new Date(Date.now() + 3_600_000);
    utimesSync(file, writing, writing);
    // a settled file beside it: once it is delivered, the folder was read with the half file in it
    const probe = join(inbox, 'probe.json');
    writeFileSync(probe, JSON.stringify({ ref: 'c-0' }));
    const settled = new Date(Date.now() - 3_600_000);
    utimesSync(probe, settled, settled);
    expect((await consumer.next()).id).toBe(`${source}:c-0`);
    expect(consumer.pending).toBe(0);
    expect(await deadLetters(system)).toBe(1);

    // the writer finishes and the file settles: the half line was never read
    writeFileSync(file, `${JSON.stringify({ ref: 'c-1' })}\n${JSON.stringify({ ref: 'c-2' })}\n`);
    utimesSync(file, settled, settled);
    const ids = [(await consumer.next()).id, (await consumer.next()).id];
    expect(ids.sort()).toEqual([`${source}:c-1`, `${source}:c-2`]);
    expect(await deadLetters(system)).toBe(1);
  });
});
