import { DataSource } from 'typeorm';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { eventually } from '../support/time/eventually.js';
import { expectExactly } from '../support/time/expect-exactly.js';
import { MailCatcher } from '../support/mail/mail-catcher.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

function alertSettings(smtp: MailCatcher, foldWindow: string): Record<string, string> {
  return { SMTP_URL: smtp.url(), ALERT_EMAIL_TO: 'oncall@example.test', ALERT_EMAIL_FROM: 'gateway@example.test', ALERT_FOLD_WINDOW: foldWindow };
}

describe('a flood of bogus handshakes', () => {
  let smtp: MailCatcher;
  let api: RunningExperienceApi;

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    // a window longer than any flood can take here; closing the app mails the digest it holds
    api = await startExperienceApi(alertSettings(smtp, '5m'));
  });
  afterAll(async () => {
    await smtp.stop();
  });

  it('becomes at most two mails whose count says 1,000, while a real consumer connects and receives throughout', async () => {
    const url = `${api.wsUrl}/ws/publish`;
    const [early, late] = await Promise.all([createConsumer(api), createConsumer(api)]);
    const earlySocket = await TestSocket.open(url, { headers: consumerHeaders(early.clientId, early.token) });
    await earlySocket.next();

    const bogus = Array.from({ length: 1_000 }, (_, i) => consumerHeaders(i % 2 ? early.clientId : `attacker-${i % 7}`, 'A'.repeat(42) + String(i % 10)));
    const statuses: number[] = [];
    const flood = (async () => {
      for (let i = 0; i < bogus.length; i += 50) {
        const batch = await Promise.all(bogus.slice(i, i + 50).map((headers) => TestSocket.refusal(url, { headers })));
        statuses.push(...batch.map((refusal) => refusal.status));
      }
    })();

    // meanwhile a real consumer connects, and entities reach both consumers
    await eventually(() => statuses.length > 0);
    const lateSocket = await TestSocket.open(url, { headers: consumerHeaders(late.clientId, late.token) });
    expect((await lateSocket.next()).type).toBe('welcome');
    const during = await api.http.post('/entity').send({ data: 'during the flood' }).expect(202);
    expect((await earlySocket.next()).id).toBe(during.body.id);
    expect((await lateSocket.next()).id).toBe(during.body.id);
    await flood;
    expect(statuses).toEqual(Array(1_000).fill(401));

    const after = await api.http.post('/entity').send({ data: 'after the flood' }).expect(202);
    expect((await lateSocket.next()).id).toBe(after.body.id);
    expect(smtp.mails).toHaveLength(1);
    await api.close();

    await expectExactly(2, () => smtp.mails.length, { timeoutMs: 15_000 });
    const mails = smtp.mails;
    expect(mails[0].subject).toBe('[experience-api] refused handshakes');
    expect(mails[1].subject).toBe('[experience-api] 1000 refused handshakes in the last 5 minutes');
    expect(mails[1].text).toContain('count: 1000');
    expect(mails[1].text).toContain('remote_address: 1 distinct; top: 127.0.0.1 (1000)');
    expect(mails[1].text).toContain('reason: 1 distinct; top: unauthorized (1000)');
    for (const mail of mails) expect(mail.text).not.toContain('A'.repeat(42));
    expect((await earlySocket.closed).code).toBe(1012);
  });
});

describe('alerts for the failures on-call must hear of', () => {
  let smtp: MailCatcher;
  let api: RunningExperienceApi;

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    // embedded PGlite whatever DATABASE_URL says: one test here breaks its database on purpose
    api = await startExperienceApi({ ...alertSettings(smtp, '5m'), DATABASE_URL: '' });
  });
  afterAll(async () => {
    await api.close();
    await smtp.stop();
  });

  const mailAbout = (subject: string) => smtp.waitForSubject(subject);

  it('mails when a consumer sends a message, naming its client id', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const welcome = await socket.next();
    socket.socket.send('hello?');
    expect((await socket.closed).code).toBe(1008);

    const mail = await mailAbout('[experience-api] consumers sent messages on /ws/publish');
    expect(mail.text).toContain(`client_id: ${consumer.clientId}`);
    expect(mail.text).toContain(`socket_id: ${String(welcome.socket_id)}`);
    expect(mail.text).not.toContain(consumer.token);
  });

  it('mails a refused duplicate connection with the client id and address', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    await socket.next();
    expect((await TestSocket.refusal(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) })).status).toBe(409);

    const mail = await mailAbout('[experience-api] refused handshakes');
    expect(mail.text).toContain('reason: conflict');
    expect(mail.text).toContain(`client_id: ${consumer.clientId}`);
    expect(mail.text).toContain('remote_address: 127.0.0.1');
    expect(mail.text).not.toContain(consumer.token);
    await socket.close();
  });

  it('mails an internal error with where it happened, and answers the caller 500', async () => {
    await api.app.get(DataSource).query('DROP TABLE publications');
    const answer = await api.http.post('/entity').send({ data: 1 }).expect(500);
    expect(answer.body).toEqual({ error: 'internal_server_error', message: 'internal error' });

    const mail = await mailAbout('[experience-api] internal errors');
    expect(mail.text).toContain('where: POST /entity');
    expect(mail.text).toContain('severity: error');
  });
});
