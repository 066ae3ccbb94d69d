import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { connect, type ConnectionHandle, type Stopped } from '@push-gateway/client';
import { CONSOLE_CSP } from '../../apps/experience-api/src/console/serve-console.js';
import { chromiumInstalled, launchChromium } from '../support/browser/chromium.js';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { freePort } from '../support/net/free-port.js';
import { databaseUrl, serviceAvailable } from '../support/processes/services.js';
import { FreshDatabase } from '../support/cluster/fresh-database.js';
import { SystemApiProcess } from '../support/processes/system-api.js';
import { eventually } from '../support/time/eventually.js';

/** Where the screenshots go: CI keeps this folder as the run's artifacts. */
const ARTIFACTS = resolve(process.env.TEST_ARTIFACTS_DIR || 'test-artifacts');

const available = serviceAvailable('chromium', chromiumInstalled());
const describeWithChromium = available ? describe : describe.skip;

describeWithChromium('the operator console at /console (headless Chromium)', () => {
  let api: RunningExperienceApi;
  let system: SystemApiProcess;
  /** On Postgres, system-api's database of its own: the page shows the outbox and dead letters of its database, which other suites share. */
  let systemDatabase: FreshDatabase | undefined;
  let workDir: string;
  let inbox: string;
  let browser: Browser;
  let page: Page;
  /** What the page reported breaking its Content-Security-Policy, and any script error. */
  const violations: string[] = [];
  const consumers: ConnectionHandle[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'push-console-'));
    inbox = join(workDir, 'inbox');
    mkdirSync(inbox);
    mkdirSync(ARTIFACTS, { recursive: true });
    // each app must know the other's address before it starts: experience-api's port is chosen first
    const port = await freePort();
    systemDatabase = databaseUrl ? await FreshDatabase.create(databaseUrl, 'console') : undefined;
    system = new SystemApiProcess({
      workDir,
      experienceApiUrl: `http://127.0.0.1:${port}`,
      env: systemDatabase ? { DATABASE_URL: systemDatabase.url } : {},
      sources: `
- name: drop-folder
  type: directory
  path: ${inbox}
  interval: 200ms
  settle: 200ms
  id: ref
`,
    });
    [api, browser] = await Promise.all([startExperienceApi({ PORT: String(port), SYSTEM_API_URL: await system.url }), launchChromium()]);
    await system.start();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
  });
  afterAll(async () => {
    for (const consumer of consumers) await consumer.close().catch(() => undefined);
    await browser?.close();
    await system?.stop();
    await systemDatabase?.drop();
    await api?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function signIn(token: string): Promise<void> {
    await page.goto(`${api.httpUrl}/console`);
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function counter(label: string): Promise<number> {
    const text = (await page.getByLabel(label, { exact: true }).textContent()) ?? '';
    return Number(text.replace(/,/g, ''));
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  it('serves its page and files from the app, under a strict Content-Security-Policy', async () => {
    await api.http.get('/console').expect(301).expect('Location', '/console/');
    const html = await api.http
      .get('/console/')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    expect(html.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(html.headers['x-frame-options']).toBe('DENY');
    expect(html.text).not.toMatch(/<script>|<style>|https?:\/\//);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html.text)?.[1];
    expect(script).toBeDefined();
    const asset = await api.http.get(script!).expect(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-security-policy']).toBe(CONSOLE_CSP);
    await api.http.get('/console/assets/nothing-here.js').expect(404);
    await api.http.post('/console/').expect(404);
  });

  it('refuses a wrong admin token, and opens with the right one', async () => {
    await signIn('not-the-admin-token-at-all');
    await page.getByRole('alert').filter({ hasText: 'this is not the admin token' }).waitFor();
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Sockets' }).waitFor();
    await page.getByLabel('Sockets open', { exact: true }).filter({ hasText: /^\d/ }).waitFor();
  });

  it('shows a consumer connecting, and closes it from the page: the consumer sees the close code', async () => {
    const consumer = await createConsumer(api, { groups: ['orders'] });
    let stopped: Stopped | undefined;
    const connection = connect({ url: api.httpUrl, clientId: consumer.clientId, token: consumer.token, transport: 'node', onEntity: () => undefined });
    consumers.push(connection);
    void connection.done.then((how) => (stopped = how));

    const row = page.locator(`table[aria-label="Sockets"] tr[data-client="${consumer.clientId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('orders');
    await page.getByLabel('Filter by group').fill('orders');
    await row.waitFor();
    await page.getByLabel('Filter by group').fill('no-such-group');
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('Filter by group').fill('');
    await row.click();
    await shot('console-sockets');
    await page.getByRole('button', { name: 'Close socket' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /socket \w+ closed with 1000/ })
      .waitFor();

    await eventually(() => stopped !== undefined, 10_000, 50, 'the consumer to stop');
    expect(stopped).toEqual({ by: 'gateway', code: 1000 });
    await row.waitFor({ state: 'detached' });
  });

  it('publishes a test entity and watches it arrive on its test consumer (the SDK in the browser), the delivery count moving', async () => {
    await page.getByRole('tab', { name: 'Publish' }).click();
    await page.getByRole('button', { name: 'Start test consumer' }).click();
    const state = page.getByLabel('Test consumer state');
    await state.filter({ hasText: /connected as console-/ }).waitFor();
    const probeClient = /connected as (console-[0-9a-f]+)/.exec((await state.textContent()) ?? '')![1];
    const sockets = await api.http.get('/admin/sockets').query({ client_id: probeClient }).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    expect(sockets.body.sockets).toHaveLength(1);

    const before = await counter('Deliveries');
    await page.getByLabel('Entity data').fill('{"order": 4242, "from": "console test"}');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    const answer = page.getByRole('status').filter({ hasText: /published as seq \d+/ });
    await answer.waitFor();
    const seq = /seq (\d+)/.exec((await answer.textContent()) ?? '')![1];
    await page.getByLabel('Arrivals').getByText(`seq ${seq}`).waitFor();
    expect(await page.getByLabel('Arrivals').textContent()).toContain('{"order":4242,"from":"console test"}');
    await eventually(async () => (await counter('Deliveries')) > before, 10_000, 100, 'the deliveries counter to move');
    await shot('console');

    await page.getByRole('button', { name: 'Stop test consumer' }).click();
    await state.filter({ hasText: 'stopped' }).waitFor();
    // the throwaway client goes with its consumer
    await eventually(
      async () => (await api.http.get(`/admin/clients/${probeClient}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`)).status === 404,
      10_000,
      100,
      'the test client to be deleted',
    );
  });

  it('says why a publish was refused', async () => {
    await page.getByLabel('Entity data').fill('{"unclosed": ');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'data is not JSON' }).waitFor();
    await page.getByLabel('Entity groups').fill('Not A Group!');
    await page.getByLabel('Entity data').fill('{}');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByRole('status').filter({ hasText: /group/ }).waitFor();
    await page.getByLabel('Entity groups').fill('');
  });

  it('creates a client, shows its secret once, changes its grants and deletes it', async () => {
    const clientId = uniqueClientId('console');
    await page.getByRole('tab', { name: 'Clients' }).click();
    await page.getByLabel('New client id').fill(clientId);
    await page.getByLabel('New client groups').fill('orders, eu');
    await page.getByRole('button', { name: 'Create client' }).click();
    const secret = page.getByLabel('Client secret');
    await secret.waitFor();
    const shown = (await secret.locator('code').textContent())!;
    // the secret shown works: the client registers with it
    await api.http.post('/consumers').set('client_id', clientId).set('client_secret', shown).expect(201);

    const row = page.locator(`table[aria-label="Clients"] tr[data-client="${clientId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('orders, eu');
    await row.getByRole('button', { name: 'Edit grants' }).click();
    await row.getByLabel(`Groups of ${clientId}`).fill('orders');
    await row.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${clientId} may now join orders` })
      .waitFor();
    const stored = await api.http.get(`/admin/clients/${clientId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    expect(stored.body.groups).toEqual(['orders']);

    await row.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByLabel('Client secret').filter({ hasText: 'New secret' }).waitFor();
    await api.http.post('/consumers').set('client_id', clientId).set('client_secret', shown).expect(401);

    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Confirm delete' }).click();
    await row.waitFor({ state: 'detached' });
    await api.http.get(`/admin/clients/${clientId}`).set('Authorization', `Bearer ${ADMIN_TOKEN}`).expect(404);
  });

  it('lists recent refusals and alerts', async () => {
    const clientId = uniqueClientId('intruder');
    const refused = new WebSocket(`${api.wsUrl}/ws/publish`, {
      headers: { client_id: clientId, Authorization: 'Bearer wrong-token-wrong-token-wrong-token-wrong-t' },
    });
    refused.on('error', () => undefined);
    const status = await new Promise<number>((done) =>
      refused.on('unexpected-response', (request, response) => {
        done(response.statusCode ?? 0);
        request.destroy();
      }),
    );
    expect(status).toBe(401);

    await page.getByRole('tab', { name: 'Refusals & alerts' }).click();
    const refusal = page.locator('table[aria-label="Refusals"] tr').filter({ hasText: clientId });
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/GET \/ws\/publish.*401/);
    // a refused handshake is also a (folded) alert
    await page.locator('table[aria-label="Alerts"] tr').filter({ hasText: 'handshake_refused' }).waitFor();
    // the page's own wrong sign-in is there too, without the token it tried
    const signIn = page.locator('table[aria-label="Refusals"] tr').filter({ hasText: 'GET /admin/stats' });
    await signIn.waitFor();
    expect(await page.locator('table[aria-label="Refusals"]').textContent()).not.toContain('not-the-admin-token-at-all');
  });

  it("shows system-api's sources, outbox and dead letters, as they move", async () => {
    writeFileSync(join(inbox, 'broken.json'), '{ this is not json');
    writeFileSync(join(inbox, 'order-1.json'), JSON.stringify({ ref: `console-${Date.now()}`, total: 12 }));
    await page.getByRole('tab', { name: 'system-api' }).click();
    const source = page.locator('table[aria-label="Sources"] tr').filter({ hasText: 'drop-folder' });
    await source.waitFor();
    expect(await source.textContent()).toContain('directory');
    await page.getByLabel('Dead letters', { exact: true }).filter({ hasText: /^1$/ }).waitFor();
    await page.getByLabel('system-api status', { exact: true }).filter({ hasText: 'ok' }).waitFor();
    await page.getByLabel('Outbox pending', { exact: true }).filter({ hasText: /^0$/ }).waitFor();
    await shot('console-system');
  });

  it('keeps the token in memory only: nothing stored, and a reload asks again', async () => {
    const stored = await page.evaluate('({ local: localStorage.length, session: sessionStorage.length, cookies: document.cookie })');
    expect(stored).toEqual({ local: 0, session: 0, cookies: '' });
    await page.reload();
    await page.getByLabel('Admin token').waitFor();
    expect(violations).toEqual([]);
  });
});
