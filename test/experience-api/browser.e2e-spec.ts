import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { serviceAvailable } from '../support/processes/services.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What a page has seen on one WebSocket. */
interface Connection {
  readonly protocol: string | null;
  readonly events: string[];
  readonly frames: Array<Record<string, unknown>>;
}

// The consumer a web page would embed: credentials travel as subprotocols because browsers cannot set headers.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>push consumer</title>
<script>
  window.connections = {};
  window.connectConsumer = (name, url, clientId, token) => {
    const connection = { protocol: null, events: [], frames: [] };
    window.connections[name] = connection;
    const ws = new WebSocket(url, ['push.v1', 'bearer.' + token, 'client_id.' + clientId]);
    ws.onopen = () => { connection.events.push('open'); connection.protocol = ws.protocol; };
    ws.onmessage = (event) => connection.frames.push(JSON.parse(event.data));
    ws.onerror = () => connection.events.push('error');
    ws.onclose = (event) => connection.events.push('close:' + event.code);
  };
</script>`;

const available = serviceAvailable('chromium', existsSync(CHROMIUM));
const describeWithChromium = available ? describe : describe.skip;

describeWithChromium('a browser consumer (headless Chromium, subprotocol credentials)', () => {
  let api: RunningExperienceApi;
  let site: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [api, browser] = await Promise.all([startExperienceApi(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 })]);
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

  function connect(name: string, clientId: string, token: string): Promise<void> {
    return page.evaluate(
      ([name, url, clientId, token]) => (globalThis as any).connectConsumer(name, url, clientId, token),
      [name, `${api.wsUrl}/ws/publish`, clientId, token],
    );
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

  it('never opens a socket for a wrong token', async () => {
    const consumer = await createConsumer(api);
    await connect('wrong', consumer.clientId, `${consumer.token}x`);

    const refused = await connection('wrong', 'window.connections.wrong.events.some((event) => event.startsWith("close:"))');
    expect(refused.events).toEqual(['error', 'close:1006']);
    expect(refused.protocol).toBeNull();
    expect(refused.frames).toEqual([]);
  });
});
