import { ManualClock } from '@app/platform';
import { Test } from '@nestjs/testing';
import { eventually } from '../../../test/support/time/eventually.js';
import { MailCatcher } from '../../../test/support/mail/mail-catcher.js';
import { freePort } from '../../../test/support/net/free-port.js';
import { opensslAnswers, selfSignedCertificate } from '../../../test/support/net/self-signed.js';
import { serviceAvailable } from '../../../test/support/processes/services.js';
import type { Alert } from './alert.js';
import { AlertService } from './alert.service.js';
import { AlertingModule } from './alerting.module.js';
import type { AlertingOptions } from './alerting.options.js';

async function alerting(overrides: Partial<AlertingOptions>): Promise<{ sut: AlertService; close: () => Promise<void> }> {
  const module = await Test.createTestingModule({
    imports: [
      AlertingModule.forRoot({
        app: 'experience-api',
        instanceId: 'instance-7',
        to: ['oncall@example.test', 'lead@example.test'],
        from: 'gateway@example.test',
        foldWindowMs: 400,
        maxMailsPerHour: 50,
        retryInitialMs: 100,
        retryMaxMs: 400,
        ...overrides,
      }),
    ],
  }).compile();
  module.useLogger(false);
  await module.init();
  return { sut: module.get(AlertService), close: () => module.close() };
}

const refused = (address: string, clientId = 'acme'): Alert => ({
  kind: 'handshake_refused',
  severity: 'warning',
  subject: 'refused handshakes',
  details: { reason: 'unauthorized', client_id: clientId, remote_address: address },
});

describe(AlertService.name, () => {
  let smtp: MailCatcher;

  beforeEach(async () => {
    smtp = await MailCatcher.start();
  });
  afterEach(async () => {
    await smtp.stop();
  });

  it('mails the first alert of a kind at once, to every recipient, with app, instance and details', async () => {
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()) });
    sut.raise(refused('203.0.113.9'));
    const [mail] = await smtp.waitFor(1);
    await close();

    expect(mail.subject).toBe('[experience-api] refused handshakes');
    expect(mail.from?.text).toBe('gateway@example.test');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual(['oncall@example.test', 'lead@example.test']);
    expect(mail.text).toContain('app: experience-api');
    expect(mail.text).toContain('instance: instance-7');
    expect(mail.text).toContain('severity: warning');
    expect(mail.text).toContain('client_id: acme');
    expect(mail.text).toContain('remote_address: 203.0.113.9');
  });

  it('folds repeats into one digest with the count and the top values when the window closes', async () => {
    const clock = new ManualClock();
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()), clock });
    for (let i = 0; i < 312; i++) sut.raise(refused(`198.51.100.${i % 14}`, `client-${i % 3}`));
    await smtp.waitFor(1);
    await eventually(() => sut.backlog === 0, 5_000);
    // a digest would be queued the moment the window closed
    await clock.advance(399);
    expect(sut.backlog).toBe(0);

    await clock.advance(1);
    const mails = await smtp.waitFor(2);
    // closing delivers what is queued before it returns: the mails are all there is
    await close();

    expect(mails).toHaveLength(2);
    expect(mails[1].subject).toBe('[experience-api] 312 refused handshakes in the last 0.4 seconds');
    expect(mails[1].text).toContain('count: 312');
    expect(mails[1].text).toContain('remote_address: 14 distinct; top: 198.51.100.0 (23)');
    expect(mails[1].text).toContain('client_id: 3 distinct');
  });

  it('keeps a kind that never stops firing to one digest per window, and mails the open window on shutdown', async () => {
    const clock = new ManualClock();
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()), clock });
    // one alert every 20 ms for 1 s, with a 0.4 s window
    for (let step = 0; step < 50; step++) {
      sut.raise(refused('192.0.2.1'));
      await clock.advance(20);
    }
    await smtp.waitFor(3);
    await close();

    expect(smtp.mails.map((mail) => mail.subject)).toEqual([
      '[experience-api] refused handshakes',
      '[experience-api] 20 refused handshakes in the last 0.4 seconds',
      '[experience-api] 20 refused handshakes in the last 0.4 seconds',
      '[experience-api] 10 refused handshakes in the last 0.4 seconds',
    ]);
  });

  it('mails each kind on its own', async () => {
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()) });
    sut.raise(refused('192.0.2.1'));
    sut.raise({ kind: 'consumer_message', severity: 'warning', subject: 'consumers sent messages', details: { client_id: 'acme' } });
    sut.raise({ kind: 'internal_error', severity: 'error', subject: 'internal errors', details: { where: 'POST /entity' } });
    const mails = await smtp.waitFor(3);
    await close();
    expect(mails.map((m) => m.subject).sort()).toEqual([
      '[experience-api] consumers sent messages',
      '[experience-api] internal errors',
      '[experience-api] refused handshakes',
    ]);
  });

  it('sends no more than the hourly ceiling', async () => {
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()), maxMailsPerHour: 3, foldWindowMs: 60_000 });
    for (let i = 0; i < 6; i++) sut.raise({ kind: `kind-${i}`, severity: 'error', subject: `failure ${i}` });
    await smtp.waitFor(3);
    await close();
    expect(smtp.mails.map((m) => m.subject)).toEqual(['[experience-api] failure 0', '[experience-api] failure 1', '[experience-api] failure 2']);
  });

  it('mails "resolved" when a condition that was alerting clears, and nothing for one that never alerted', async () => {
    const clock = new ManualClock();
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()), clock });
    sut.resolve('database_unreachable', 'database unreachable');
    sut.raise({ kind: 'database_unreachable', severity: 'critical', subject: 'database unreachable', details: { error: 'ECONNREFUSED' } });
    sut.raise({ kind: 'database_unreachable', severity: 'critical', subject: 'database unreachable', details: { error: 'ECONNREFUSED' } });
    sut.resolve('database_unreachable', 'database unreachable');
    const mails = await smtp.waitFor(3);
    await close();

    expect(mails.map((m) => m.subject)).toEqual([
      '[experience-api] database unreachable',
      '[experience-api] 2 database unreachable in the last 0.4 seconds',
      '[experience-api] resolved: database unreachable',
    ]);
    expect(mails[2].text).toContain('alerting since:');
  });

  it('never puts a token, a secret or URL credentials in a mail', async () => {
    const { sut, close } = await alerting({ smtpUrl: new URL(smtp.url()) });
    sut.raise({
      kind: 'internal_error',
      severity: 'error',
      subject: 'internal errors',
      details: { token: 'tok-123456', client_secret: 'sec-123456', url: 'postgres://app:pw-123456@db:5432/gw' },
    });
    const [mail] = await smtp.waitFor(1);
    await close();
    for (const secret of ['tok-123456', 'sec-123456', 'pw-123456']) expect(`${mail.subject}\n${mail.text}`).not.toContain(secret);
    expect(mail.text).toContain('url: postgres://db:5432/gw');
  });

  it('keeps the mail while the SMTP server is down and delivers it once it is back', async () => {
    const port = await freePort();
    const clock = new ManualClock();
    const { sut, close } = await alerting({ smtpUrl: new URL(`smtp://127.0.0.1:${port}`), clock });
    sut.raise(refused('192.0.2.1'));
    // the first attempt failed: a retry waits beside the fold window
    await eventually(() => clock.pending === 2, 5_000);
    expect(sut.backlog).toBe(1);

    const late = await MailCatcher.start({ port });
    try {
      expect(late.mails).toHaveLength(0);
      await clock.advance(100);
      const [mail] = await late.waitFor(1, 5_000);
      expect(mail.subject).toBe('[experience-api] refused handshakes');
      await eventually(() => sut.backlog === 0, 2_000);
    } finally {
      await close();
      await late.stop();
    }
  });

  it('logs and drops a mail the server refuses for bad credentials, without throwing', async () => {
    const strict = await MailCatcher.start({ users: { alerts: 'right-password' } });
    const { sut, close } = await alerting({ smtpUrl: new URL(strict.url('alerts:wrong-password')) });
    try {
      expect(() => sut.raise(refused('192.0.2.1'))).not.toThrow();
      expect(sut.backlog).toBe(1);
      // dropped, not retried: the queue empties with nothing delivered
      await eventually(() => sut.backlog === 0, 5_000);
      expect(strict.mails).toHaveLength(0);
    } finally {
      await close();
      await strict.stop();
    }
  });

  it('authenticates when the URL carries credentials', async () => {
    const strict = await MailCatcher.start({ users: { alerts: 'p@ss word' } });
    const { sut, close } = await alerting({ smtpUrl: new URL(strict.url(`alerts:${encodeURIComponent('p@ss word')}`)) });
    try {
      sut.raise(refused('192.0.2.1'));
      expect((await strict.waitFor(1))[0].subject).toBe('[experience-api] refused handshakes');
    } finally {
      await close();
      await strict.stop();
    }
  });

  it('returns at once even when the SMTP server never answers', async () => {
    const { createServer } = await import('node:net');
    const held = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const { sut, close } = await alerting({ smtpUrl: new URL(`smtp://127.0.0.1:${port}`) });
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) sut.raise({ kind: `flood-${i % 50}`, severity: 'warning', subject: 'flood' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(sut.backlog).toBeLessThanOrEqual(50);
    await close();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
});

(serviceAvailable('openssl', opensslAnswers()) ? describe : describe.skip)(`${AlertService.name} over TLS`, () => {
  it.each([
    ['smtps:// (TLS from the first byte)', true, 'smtps'],
    ['smtp:// upgraded with STARTTLS', false, 'smtp'],
  ])('delivers over %s, trusting SMTP_CA_FILE', async (_how, secure, scheme) => {
    const certificate = selfSignedCertificate();
    const smtp = await MailCatcher.start({ tls: { key: certificate.key, cert: certificate.cert }, secure });
    const { sut, close } = await alerting({ smtpUrl: new URL(`${scheme}://127.0.0.1:${smtp.port}`), smtpCa: certificate.cert });
    try {
      sut.raise(refused('192.0.2.1'));
      const [mail] = await smtp.waitFor(1);
      expect(mail.subject).toBe('[experience-api] refused handshakes');
      expect(smtp.sessions.every((session) => session.secure)).toBe(true);
    } finally {
      await close();
      await smtp.stop();
      certificate.remove();
    }
  });
});

describe(`${AlertService.name} without SMTP_URL`, () => {
  it('logs alerts instead of mailing them', async () => {
    const { sut, close } = await alerting({});
    expect(() => sut.raise(refused('192.0.2.1'))).not.toThrow();
    expect(sut.backlog).toBe(0);
    await close();
  });
});
