import { ManualClock } from '@app/platform';
import type { Alert } from './alert.js';
import { AlertFolder } from './alert-folder.js';
import type { AlertMail } from './alert-mail.js';

const WINDOW_MS = 60_000;

const refused = (address: string, clientId = 'acme'): Alert => ({
  kind: 'handshake_refused',
  severity: 'warning',
  subject: 'refused handshakes',
  details: { reason: 'unauthorized', client_id: clientId, remote_address: address },
});

describe(AlertFolder.name, () => {
  let clock: ManualClock;
  let mails: AlertMail[];
  let sut: AlertFolder;

  beforeEach(() => {
    clock = new ManualClock(Date.parse('2026-12-01T10:00:00.000Z'));
    mails = [];
    sut = new AlertFolder({ app: 'experience-api', instanceId: 'instance-7', windowMs: WINDOW_MS, clock }, (mail) => mails.push(mail));
  });

  const subjects = () => mails.map((mail) => mail.subject);

  it('mails the first alert of a kind at once, with its details, app, instance and time', () => {
    sut.add(refused('203.0.113.9'));

    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('[experience-api] refused handshakes');
    expect(mails[0].text.split('\n')).toEqual([
      'refused handshakes',
      '',
      'severity: warning',
      'app: experience-api',
      'instance: instance-7',
      'time: 2026-12-01T10:00:00.000Z',
      '',
      'reason: unauthorized',
      'client_id: acme',
      'remote_address: 203.0.113.9',
    ]);
  });

  it('folds the repeats inside the window into one digest when it closes, with the count and the top values', async () => {
    for (let i = 0; i < 312; i++) sut.add(refused(`198.51.100.${i % 14}`, `client-${i % 3}`));
    await clock.advance(WINDOW_MS - 1);
    expect(mails).toHaveLength(1);

    await clock.advance(1);

    expect(subjects()).toEqual(['[experience-api] refused handshakes', '[experience-api] 312 refused handshakes in the last minute']);
    const digest = mails[1].text;
    expect(digest).toContain(
      '312 refused handshakes in the last minute, from 2026-12-01T10:00:00.000Z to 2026-12-01T10:01:00.000Z; the first was mailed on its own.',
    );
    expect(digest).toContain('count: 312');
    expect(digest).toContain('remote_address: 14 distinct; top: 198.51.100.0 (23)');
    expect(digest).toContain('client_id: 3 distinct; top: client-0 (104), client-1 (104), client-2 (104)');
    expect(digest).toContain('reason: 1 distinct; top: unauthorized (312)');
  });

  it('mails no digest for a window that saw only its first alert, and mails the next alert at once', async () => {
    sut.add(refused('192.0.2.1'));
    await clock.advance(WINDOW_MS);
    expect(mails).toHaveLength(1);
    expect(clock.pending).toBe(0);

    sut.add(refused('192.0.2.2'));
    expect(subjects()).toEqual(['[experience-api] refused handshakes', '[experience-api] refused handshakes']);
  });

  it('keeps a kind that never stops firing to one digest per window', async () => {
    // one alert every second for two and a half windows
    for (let second = 0; second < 150; second++) {
      sut.add(refused('192.0.2.1'));
      await clock.advance(1_000);
    }

    expect(subjects()).toEqual([
      '[experience-api] refused handshakes',
      '[experience-api] 60 refused handshakes in the last minute',
      '[experience-api] 60 refused handshakes in the last minute',
    ]);
    // the windows after a busy one have no single first mail of their own
    expect(mails[2].text).toContain('from 2026-12-01T10:01:00.000Z to 2026-12-01T10:02:00.000Z.');
    expect(mails[2].text).not.toContain('the first was mailed on its own');

    // the half window still open is mailed when it closes, then the kind goes quiet
    await clock.advance(WINDOW_MS);
    expect(subjects()[3]).toBe('[experience-api] 30 refused handshakes in the last minute');
    await clock.advance(WINDOW_MS);
    expect(mails).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('folds each kind on its own', async () => {
    sut.add(refused('192.0.2.1'));
    sut.add({ kind: 'internal_error', severity: 'error', subject: 'internal errors', details: { where: 'POST /entity' } });
    sut.add(refused('192.0.2.2'));
    sut.add({ kind: 'internal_error', severity: 'critical', subject: 'internal errors', details: { where: 'GET /health' } });
    sut.add({ kind: 'internal_error', severity: 'critical', subject: 'internal errors', details: { where: 'GET /health' } });

    await clock.advance(WINDOW_MS);

    expect(subjects()).toEqual([
      '[experience-api] refused handshakes',
      '[experience-api] internal errors',
      '[experience-api] 2 refused handshakes in the last minute',
      '[experience-api] 3 internal errors in the last minute',
    ]);
    // a digest carries the latest severity of its kind
    expect(mails[3].text).toContain('severity: critical');
    expect(mails[3].text).toContain('where: 2 distinct; top: GET /health (2), POST /entity (1)');
  });

  it('mails every window it holds on shutdown, at once, and nothing after', async () => {
    sut.add(refused('192.0.2.1'));
    sut.add(refused('192.0.2.1'));
    sut.add({ kind: 'internal_error', severity: 'error', subject: 'internal errors' });
    sut.add({ kind: 'consumer_message', severity: 'warning', subject: 'consumers sent messages' });
    sut.add({ kind: 'consumer_message', severity: 'warning', subject: 'consumers sent messages' });
    await clock.advance(10_000);

    sut.closeAll();

    expect(subjects()).toEqual([
      '[experience-api] refused handshakes',
      '[experience-api] internal errors',
      '[experience-api] consumers sent messages',
      '[experience-api] 2 refused handshakes in the last minute',
      '[experience-api] 2 consumers sent messages in the last minute',
    ]);
    expect(mails[3].text).toContain('from 2026-12-01T10:00:00.000Z to 2026-12-01T10:00:10.000Z');
    expect(clock.pending).toBe(0);
    await clock.advance(WINDOW_MS);
    expect(mails).toHaveLength(5);
  });

  it('closes one kind on demand, mailing its digest first, so that a "resolved" mail comes after it', async () => {
    sut.add({ kind: 'database_unreachable', severity: 'critical', subject: 'database unreachable', details: { error: 'ECONNREFUSED' } });
    const since = new Date(clock.now());
    await clock.advance(5_000);
    sut.add({ kind: 'database_unreachable', severity: 'critical', subject: 'database unreachable', details: { error: 'ECONNREFUSED' } });
    await clock.advance(5_000);

    sut.close('database_unreachable');
    const resolved = sut.resolved('database unreachable', since);

    expect(subjects()).toEqual(['[experience-api] database unreachable', '[experience-api] 2 database unreachable in the last minute']);
    expect(resolved.subject).toBe('[experience-api] resolved: database unreachable');
    expect(resolved.text.split('\n')).toEqual([
      'resolved: database unreachable',
      '',
      'severity: resolved',
      'app: experience-api',
      'instance: instance-7',
      'time: 2026-12-01T10:00:10.000Z',
      'alerting since: 2026-12-01T10:00:00.000Z',
    ]);
    // the kind starts afresh: its next alert is mailed at once
    sut.add({ kind: 'database_unreachable', severity: 'critical', subject: 'database unreachable' });
    expect(mails).toHaveLength(3);
  });

  it('names a window shorter than a minute in seconds', async () => {
    const mailed: AlertMail[] = [];
    const short = new AlertFolder({ app: 'system-api', instanceId: 'i-1', windowMs: 400, clock }, (mail) => mailed.push(mail));
    short.add(refused('192.0.2.1'));
    short.add(refused('192.0.2.1'));
    await clock.advance(400);
    expect(mailed[1].subject).toBe('[system-api] 2 refused handshakes in the last 0.4 seconds');
  });

  it('never puts a token, a secret or URL credentials in a mail', async () => {
    const secretive: Alert = {
      kind: 'internal_error',
      severity: 'error',
      subject: 'internal errors',
      details: { token: 'tok-123456', client_secret: 'sec-123456', url: 'postgres://app:pw-123456@db:5432/gw' },
    };
    sut.add(secretive);
    sut.add(secretive);
    await clock.advance(WINDOW_MS);

    expect(mails).toHaveLength(2);
    for (const mail of mails) for (const secret of ['tok-123456', 'sec-123456', 'pw-123456']) expect(`${mail.subject}\n${mail.text}`).not.toContain(secret);
    expect(mails[0].text).toContain('url: postgres://db:5432/gw');
    expect(mails[1].text).toContain('token: 1 distinct; top: [redacted] (2)');
  });

  it('counts at most 500 values of a detail and puts the rest under (others)', async () => {
    for (let i = 0; i < 600; i++) sut.add(refused(`10.0.${Math.floor(i / 256)}.${i % 256}`));
    await clock.advance(WINDOW_MS);
    expect(mails[1].text).toContain('remote_address: 501 distinct; top: (others) (100)');
  });
});
