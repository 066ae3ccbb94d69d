import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EntityRelay } from '../support/pipeline/entity-relay.js';
import { Pipeline } from '../support/pipeline/pipeline.js';
import type { SystemApiProcess } from '../support/processes/system-api.js';
import { eventually } from '../support/time/eventually.js';

// One bad item must cost that item only: items that cannot be hashed or stored,
// and items experience-api refuses or fails on, are dead letters, and the rest of
// their batch and their source go on. Also: a directory whose processed/ is a file.

const run = `${Date.now().toString(36)}-${process.pid}`;

type Health = Awaited<ReturnType<SystemApiProcess['health']>> & {
  checks: { experience_api: { status: string } };
  sources: Array<{ name: string; state: string; last_error: string | null }>;
};

/** An upstream HTTP API on 127.0.0.1 serving the JSON text the test gives it, exactly as written. */
class TextUpstream {
  hits = 0;

  private constructor(
    private readonly server: Server,
    public text: string,
  ) {
    server.on('request', (_request, response) => {
      this.hits++;
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(this.text);
    });
  }

  static async start(text: string): Promise<TextUpstream> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TextUpstream(server, text);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/items`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function metric(system: SystemApiProcess, name: string, source: string): Promise<number> {
  const text = await (await fetch(`${await system.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{source="${source}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('system-api: one bad item costs that item only', () => {
  const bad = `bad-${run}`;
  const answers = `answers-${run}`;
  const other = `other-${run}`;
  const drops = `drops-${run}`;
  const order: string[] = [];
  let badUpstream: TextUpstream;
  let answersUpstream: TextUpstream;
  let otherUpstream: TextUpstream;

  beforeAll(async () => {
    const deep = `${'['.repeat(20_000)}0${']'.repeat(20_000)}`;
    // written by hand: the \u0000 escapes and the lone surrogate are what the upstream sends
    badUpstream = await TextUpstream.start(
      `[{"ref": "b-1"}, {"ref": "b-2", "deep": ${deep}}, {"ref": "b-3", "tags": ["eu\\u0000"]}, {"ref": "b-4", "note": "a\\u0000b"}, {"ref": "b-5", "note": "half \\ud800 a pair"}, {"ref": "b-6"}]`,
    );
    answersUpstream = await TextUpstream.start('[]');
    otherUpstream = await TextUpstream.start('[]');
  });

  afterAll(async () => {
    await Promise.all([badUpstream, answersUpstream, otherUpstream].map((upstream) => upstream?.stop()));
  });

  const quick = 'retry: { attempts: 3, initial_delay: 100ms, max_delay: 300ms }';
  const pipeline = Pipeline.use({
    name: 'system-faults-items',
    mail: true,
    // system-api reaches experience-api through this relay, which fails chosen items
    relay: (experienceApiUrl) => new EntityRelay(experienceApiUrl),
    env: () => ({
      // eight attempts, 250 ms doubling up to 2 s: about 10 s in which another source must get through
      FORWARD_SERVER_ERROR_ATTEMPTS: '8',
      FORWARD_RETRY_MAX: '2s',
    }),
    sources: (inbox) => {
      // a file where the done folder should be
      writeFileSync(join(inbox, 'processed'), 'not a folder');
      return `
- name: ${bad}
  type: http
  url: ${badUpstream.url}
  interval: 200ms
  ${quick}
  map: '{"id": ref, "groups": tags, "data": $}'
- name: ${answers}
  type: http
  url: ${answersUpstream.url}
  interval: 100ms
  ${quick}
  id: ref
- name: ${other}
  type: http
  url: ${otherUpstream.url}
  interval: 100ms
  ${quick}
  id: ref
- name: ${drops}
  type: directory
  path: ${inbox}
  interval: 100ms
  settle: 0ms
  ${quick}
  id: ref
`;
    },
  });

  beforeAll(() => {
    pipeline.consumer.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string; id?: string };
      if (frame.type === 'entity' && frame.id) order.push(frame.id);
    });
  });

  const subjects = () => pipeline.subjects();
  const health = () => pipeline.system.health() as Promise<Health>;
  const sourceOf = async (name: string) => (await health()).sources.find((source) => source.name === name)!;

  it(
    'sets aside an item nested 20,000 deep, NUL in a group or in the data, and one the database refuses, and delivers the rest of the answer',
    pipeline.logs(async () => {
      const { system, received } = pipeline;
      await eventually(() => received.ids(bad).length === 2, 20_000);
      expect(received.ids(bad)).toEqual([`${bad}:b-1`, `${bad}:b-6`]);
      await eventually(async () => (await metric(system, 'system_api_dead_letters_total', bad)) === 4, 10_000);
      expect(system.log).toMatch(/malformed item set aside: the item nests deeper than 256 levels/);
      expect(system.log).toMatch(/malformed item set aside: groups\[0\] holds a NUL character/);
      expect(system.log).toMatch(/malformed item set aside: data\.note holds a NUL character/);
      expect(system.log).toMatch(/malformed item set aside: the database refused the item/);
      expect(await sourceOf(bad)).toMatchObject({ state: 'up', last_error: null });
      await eventually(() => subjects().some((s) => /malformed items? set aside/.test(s)), 10_000);

      // the same answer, read again and again: each bad item stays one dead letter, each good one one delivery
      const hits = badUpstream.hits;
      await eventually(() => badUpstream.hits >= hits + 4, 10_000);
      expect(await metric(system, 'system_api_dead_letters_total', bad)).toBe(4);
      expect(received.frames(bad)).toBe(2);
    }),
    60_000,
  );

  it(
    'makes an item experience-api answers 400 a dead letter at once, and one it answers 500 a dead letter after its attempts, while experience-api stays up and the rest flows in order',
    pipeline.logs(async () => {
      const { system, received, relay, smtp } = pipeline;
      relay.fault = (id) => {
        if (id === `${answers}:a-1`) return { status: 400, body: { error: 'invalid_request', message: 'price must be a number' } };
        if (id === `${answers}:a-2`) return { status: 500, body: { error: 'internal_error', message: 'the publication log refused the entity' } };
        return undefined;
      };
      let sawDown = false;
      const watch = async () => {
        sawDown ||= (await health()).checks.experience_api.status === 'down';
        return true;
      };
      answersUpstream.text = JSON.stringify([{ ref: 'a-1' }, { ref: 'a-2' }, { ref: 'a-3' }, { ref: 'a-4' }]);

      // while a-2 waits between its attempts, another source is not held up
      await eventually(() => relay.attemptsFor(`${answers}:a-2`).length >= 1, 10_000);
      otherUpstream.text = JSON.stringify([{ ref: 'o-1' }]);
      await eventually(async () => (await watch()) && received.ids(other).length === 1, 10_000);
      expect(relay.attemptsFor(`${answers}:a-2`).length).toBeLessThan(8);

      await eventually(async () => (await watch()) && received.ids(answers).length === 2, 30_000);
      expect(received.ids(answers)).toEqual([`${answers}:a-3`, `${answers}:a-4`]);
      // a 400 is final: one attempt; a 500 gets FORWARD_SERVER_ERROR_ATTEMPTS, and the items after it wait their turn
      expect(relay.attemptsFor(`${answers}:a-1`)).toHaveLength(1);
      expect(relay.attemptsFor(`${answers}:a-2`).map((attempt) => attempt.status)).toEqual(Array(8).fill(500));
      const lastOf = (id: string) => relay.attempts.map((attempt) => attempt.id).lastIndexOf(id);
      expect(lastOf(`${answers}:a-3`)).toBeGreaterThan(lastOf(`${answers}:a-2`));
      expect(order.filter((id) => id.startsWith(`${answers}:`))).toEqual([`${answers}:a-3`, `${answers}:a-4`]);
      // experience-api answered every time: it was never reported away
      expect(sawDown).toBe(false);
      expect((await health()).checks.experience_api.status).toBe('up');
      expect(await metric(system, 'system_api_dead_letters_total', answers)).toBe(2);

      // on-call hears of both, with the status and experience-api's message
      await eventually(() => smtp.mails.some((m) => m.text?.includes(`${answers}:a-2`)), 10_000);
      const mailText = smtp.mails
        .filter((m) => /items? refused by experience-api/.test(m.subject ?? ''))
        .map((m) => m.text)
        .join('\n');
      expect(mailText).toContain('HTTP 400 invalid_request: price must be a number');
      expect(mailText).toContain('HTTP 500 internal_error: the publication log refused the entity');
      expect(system.log).toMatch(new RegExp(`refused item ${answers}:a-2 of ${answers} after 8 attempts`));
      expect(subjects()).not.toContain('[system-api] experience-api unreachable');
    }),
    60_000,
  );

  it(
    'retries an item experience-api answers 429 or 503 until it is accepted, and delivers it once',
    pipeline.logs(async () => {
      const { system, received, relay } = pipeline;
      relay.fault = (id, attempt) => {
        if (id === `${answers}:a-5` && attempt <= 2) return { status: attempt === 1 ? 429 : 503, body: { error: 'unavailable', message: 'try later' } };
        return undefined;
      };
      answersUpstream.text = JSON.stringify([{ ref: 'a-1' }, { ref: 'a-2' }, { ref: 'a-3' }, { ref: 'a-4' }, { ref: 'a-5' }]);

      await eventually(() => received.ids(answers).includes(`${answers}:a-5`), 20_000);
      expect(relay.attemptsFor(`${answers}:a-5`).map((attempt) => attempt.status)).toEqual([429, 503, 202]);
      expect(received.frames(answers)).toBe(3);
      expect(await metric(system, 'system_api_dead_letters_total', answers)).toBe(2);
    }),
    30_000,
  );

  it(
    'reports once, naming the path, a processed/ that is a file, keeps the input files, and goes on when it is moved away',
    pipeline.logs(async () => {
      const { system, received, smtp, inbox } = pipeline;
      writeFileSync(join(inbox, 'd-1.json'), JSON.stringify({ ref: 'd-1' }));
      const subject = `[system-api] source ${drops} blocked`;

      await eventually(async () => (await sourceOf(drops)).last_error?.includes(join(inbox, 'processed')) === true, 10_000);
      expect((await sourceOf(drops)).last_error).toMatch(/is a file, not a folder/);
      await eventually(() => subjects().includes(subject), 10_000);
      expect(smtp.mails.find((m) => m.subject === subject)!.text).toContain(join(inbox, 'processed'));
      // it keeps polling and failing, and is not reported again; nothing was read or lost
      const failures = await metric(system, 'system_api_source_failures_total', drops);
      await eventually(async () => (await metric(system, 'system_api_source_failures_total', drops)) >= failures + 3, 10_000);
      expect(subjects().filter((s) => s === subject)).toHaveLength(1);
      expect(system.log.match(/blocked: .* is a file, not a folder/g)).toHaveLength(1);
      expect(existsSync(join(inbox, 'd-1.json'))).toBe(true);
      expect(received.ids(drops)).toEqual([]);

      rmSync(join(inbox, 'processed'));
      await eventually(() => received.ids(drops).length === 1, 10_000);
      expect(received.ids(drops)).toEqual([`${drops}:d-1`]);
      await eventually(() => existsSync(join(inbox, 'processed', 'd-1.json')), 5_000);
      expect(readdirSync(inbox).filter((name) => name.endsWith('.json'))).toEqual([]);
      await eventually(() => subjects().includes(`[system-api] resolved: source ${drops} blocked`), 10_000);
    }),
    30_000,
  );
});
