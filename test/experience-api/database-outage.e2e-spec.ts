import { localPostgresUrl, postgresAnswers, serviceAvailable } from '../support/processes/services.js';
import { eventually } from '../support/time/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { MailCatcher } from '../support/mail/mail-catcher.js';
import { TcpProxy } from '../support/net/tcp-proxy.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

const target = new URL(localPostgresUrl);
const available = serviceAvailable(`Postgres at ${target.host}`, await postgresAnswers(localPostgresUrl));

(available ? describe : describe.skip)('the database goes away while consumers are connected', () => {
  let proxy: TcpProxy;
  let api: RunningExperienceApi;
  let smtp: MailCatcher;

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const viaProxy = new URL(localPostgresUrl);
    viaProxy.port = String(proxy.port);
    api = await startExperienceApi({
      DATABASE_URL: viaProxy.toString(),
      HEALTH_CHECK_INTERVAL: '200ms',
      SMTP_URL: smtp.url(),
      ALERT_EMAIL_TO: 'oncall@example.test',
    });
  });
  afterAll(async () => {
    await api.close();
    await proxy.cut();
    await smtp.stop();
  });

  it('says so in health, fails requests cleanly, keeps sockets open, alerts, and resumes when it returns', async () => {
    const [consumer, waiting] = await Promise.all([createConsumer(api), createConsumer(api)]);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    await socket.next();

    await proxy.cut();

    const health = await api.http.get('/health').expect(503);
    expect(health.body).toMatchObject({ status: 'error', checks: { database: { status: 'down' } } });

    const publish = await api.http.post('/entity').send({ data: 'lost?' }).expect(503);
    expect(publish.body).toEqual({ error: 'service_unavailable', message: 'the database is unavailable; try again shortly' });
    await api.http.post('/consumers').set('client_id', waiting.clientId).set('client_secret', waiting.clientSecret).expect(503);
    const refusal = await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(waiting.clientId, waiting.token) });
    expect(refusal.status).toBe(503);
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    // DevOps hear of it while it lasts
    expect((await smtp.waitFor(1, 20_000))[0].subject).toBe('[experience-api] database unreachable');

    await proxy.start();

    await eventually(async () => (await api.http.get('/health')).status === 200);
    const published = await api.http.post('/entity').send({ data: 'after recovery' }).expect(202);
    expect(await socket.next()).toMatchObject({ id: published.body.id, data: 'after recovery' });
    const late = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(waiting.clientId, waiting.token) });
    expect((await late.next()).type).toBe('welcome');
    await late.close();
    await socket.close();

    const mails = await smtp.waitFor(2, 20_000);
    expect(mails.map((mail) => mail.subject)).toEqual(['[experience-api] database unreachable', '[experience-api] resolved: database unreachable']);
    expect(mails[0].text).toContain('severity: critical');
  });
});
