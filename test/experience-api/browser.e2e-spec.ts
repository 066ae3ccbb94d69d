import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { chromiumInstalled, launchChromium } from '../support/browser/chromium.js';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { serviceAvailable } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';

/** Where a page stopped: the seq to reconnect after, and the history it belongs to. */
interface Position {
  readonly seq: number;
  readonly epoch: string | null;
}

/** What a page has seen on one WebSocket. */
interface Connection {
  readonly protocol: string | null;
  readonly events: string[];
  readonly frames: Array<Record<string, unknown>>;
  readonly position: Position;
}

// The consumer a web page would embed: credentials travel as subprotocols because browsers cannot set headers,
// and so does where it stopped (since.<seq>, epoch.<id>) when it reconnects. It remembers the highest seq it
// received, or the welcome's last_seq when that is higher and no replay follows, and the epoch.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>push consumer</title>
<script>
  window.connections = {};
  window.sockets = {};
  window.connectConsumer = (name, url, clientId, token, resume) => {
    const connection = { protocol: null, events: [], frames: [], position: resume ? { ...resume } : { seq: 0, epoch: null } };
    window.connections[name] = connection;
    const protocols = ['push.v1', 'bearer.' + token, 'client_id.' + clientId];
    if (resume) protocols.push('since.' + resume.seq, 'epoch.' + resume.epoch);
    const ws = new WebSocket(url, protocols);
    window.sockets[name] = ws;
    ws.onopen = () => { connection.events.push('open'); connection.protocol = ws.protocol; };
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      connection.frames.push(frame);
      const position = connection.position;
      if (frame.type === 'entity') position.seq = Math.max(position.seq, frame.seq);
      if (frame.type === 'welcome') {
        position.epoch = frame.epoch;
        // recovered: true means the missed entities follow, and they bring the page to last_seq
        if (frame.recovered !== true) position.seq = Math.max(position.seq, frame.last_seq);
      }
    };
    ws.onerror = () => connection.events.push('error');
    ws.onclose = (event) => connection.events.push('close:' + event.code);
  };
</script>`;

const available = serviceAvailable('chromium', chromiumInstalled());
const describeWithChromium = available ? describe : describe.skip;

describeWithChromium('a browser consumer (headless Chromium, subprotocol credentials)', () => {
  let api: RunningExperienceApi;
  let site: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [api, browser] = await Promise.all([startExperienceApi(), launchChromium()]);
    site = createServer((_request, response) => response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    if (site) await new Promise((resolve) => site.close(resolve));
  });

  function connect(name: string, clientId: string, token: string, resume?: Position): Promise<void> {
    return page.evaluate(([name, url, clientId, token, resume]) => (globalThis as any).connectConsumer(name, url, clientId, token, resume), [
      name,
      `${api.wsUrl}/ws/publish`,
      clientId,
      token,
      resume,
    ] as const);
  }

  async function connection(name: string, until: string): Promise<Connection> {
    await page.waitForFunction(until, undefined, { timeout: 10_000 });
    return page.evaluate((name) => (globalThis as any).connections[name], name);
  }

  it('opens with push.v1 selected, is welcomed and receives a published entity', async () => {
    const consumer = await createConsumer(api);
    await connect('good', consumer.clientId, consumer.token);

    const welcomed = await connection('good', 'window.connections.good.frames.length >= 1');
    expect(welcomed.events).toEqual(['open']);
    expect(welcomed.protocol).toBe('push.v1');
    expect(welcomed.frames[0]).toEqual({
      type: 'welcome',
      socket_id: expect.any(String),
      client_id: consumer.clientId,
      groups: [],
      last_seq: expect.any(Number),
      epoch: expect.any(String),
    });

    const published = await api.http
      .post('/entity')
      .send({ data: { price: 12.5, currency: 'EUR' } })
      .expect(202);

    const received = await connection('good', 'window.connections.good.frames.length >= 2');
    expect(received.frames[1]).toEqual({
      type: 'entity',
      id: published.body.id,
      seq: published.body.seq,
      groups: [],
      data: { price: 12.5, currency: 'EUR' },
      published_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(received.events).toEqual(['open']);
  });

  it('reconnects offering since.<seq> and epoch.<id>: is told it recovered, and receives exactly what it missed, in order, then live', async () => {
    const consumer = await createConsumer(api);
    await connect('before', consumer.clientId, consumer.token);
    await connection('before', 'window.connections.before.frames.length >= 1');
    const first = await api.http
      .post('/entity')
      .send({ data: { step: 'before' } })
      .expect(202);
    const before = await connection('before', 'window.connections.before.frames.length >= 2');
    expect(before.frames[1]).toMatchObject({ type: 'entity', seq: first.body.seq });
    expect(before.position).toEqual({ seq: first.body.seq, epoch: before.frames[0].epoch });

    await page.evaluate(() => (globalThis as any).sockets.before.close(1000));
    await connection('before', 'window.connections.before.events.includes("close:1000")');
    // the client's one connection is free again once the server has seen the close
    await eventually(
      async () => (await api.http.get(`/admin/clients/${consumer.clientId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`)).body.live_socket === null,
      10_000,
      50,
      'the closed socket released',
    );
    const missed = [];
    for (const step of [1, 2, 3])
      missed.push(
        (
          await api.http
            .post('/entity')
            .send({ data: { missed: step } })
            .expect(202)
        ).body,
      );
    // an entity for a group this consumer is not in is not owed to it, and not counted
    await api.http
      .post('/entity')
      .send({ groups: ['elsewhere'], data: { missed: 'not mine' } })
      .expect(202);

    await connect('after', consumer.clientId, consumer.token, before.position);
    const recovered = await connection('after', 'window.connections.after.frames.length >= 4');
    expect(recovered.protocol).toBe('push.v1');
    expect(recovered.frames[0]).toEqual({
      type: 'welcome',
      socket_id: expect.any(String),
      client_id: consumer.clientId,
      groups: [],
      last_seq: expect.any(Number),
      epoch: before.position.epoch,
      recovered: true,
      missed: 3,
    });
    expect(recovered.frames[0].last_seq).toBeGreaterThanOrEqual(missed[2].seq);
    expect(recovered.frames.slice(1).map((frame) => [frame.type, frame.id, frame.seq, frame.data])).toEqual(
      missed.map((answer, index) => ['entity', answer.id, answer.seq, { missed: index + 1 }]),
    );

    const live = await api.http
      .post('/entity')
      .send({ data: { step: 'live' } })
      .expect(202);
    const after = await connection('after', 'window.connections.after.frames.length >= 5');
    expect(after.frames[4]).toMatchObject({ type: 'entity', id: live.body.id, seq: live.body.seq, data: { step: 'live' } });
    expect(after.frames).toHaveLength(5);
    expect(after.events).toEqual(['open']);
    expect(after.position).toEqual({ seq: live.body.seq, epoch: before.position.epoch });
  });

  it('never opens a socket for a wrong token', async () => {
    const consumer = await createConsumer(api);
    await connect('wrong', consumer.clientId, `${consumer.token}x`);

    const refused = await connection('wrong', 'window.connections.wrong.events.some((event) => event.startsWith("close:"))');
    expect(refused.events).toEqual(['error', 'close:1006']);
    expect(refused.protocol).toBeNull();
    expect(refused.frames).toEqual([]);
  });
});
