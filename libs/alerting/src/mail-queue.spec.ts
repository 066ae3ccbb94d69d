import { ManualClock } from '@app/platform';
import type { AlertMail } from './alert-mail.js';
import { MailQueue } from './mail-queue.js';
import { MailRejectedError, MailTransport } from './mail-transport.js';

type Outcome = 'sent' | 'unreachable' | 'rejected';

/** Records every attempt with the clock's time; the SMTP path itself is covered against a real server in alert.service.spec.ts. */
class ScriptedTransport extends MailTransport {
  readonly sent: AlertMail[] = [];
  readonly attemptsAt: number[] = [];
  /** What the next attempts meet, in order; then every attempt succeeds. */
  readonly script: Outcome[] = [];

  constructor(private readonly clock: ManualClock) {
    super();
  }

  async send(mail: AlertMail): Promise<void> {
    this.attemptsAt.push(this.clock.now());
    const outcome = this.script.shift() ?? 'sent';
    if (outcome === 'unreachable') throw new Error('connect ECONNREFUSED 127.0.0.1:25');
    if (outcome === 'rejected') throw new MailRejectedError('535 authentication failed');
    this.sent.push(mail);
  }

  describe(): string {
    return 'smtp://recorder';
  }

  close(): void {}
}

const mail = (n: number): AlertMail => ({ subject: `mail ${n}`, text: `body ${n}` });
const START = 1_700_000_000_000;

describe(MailQueue.name, () => {
  let clock: ManualClock;
  let transport: ScriptedTransport;

  beforeEach(() => {
    clock = new ManualClock(START);
    transport = new ScriptedTransport(clock);
  });

  const queue = (options: Partial<ConstructorParameters<typeof MailQueue>[1]> = {}) =>
    new MailQueue(transport, { limit: 10, maxPerHour: 50, retryInitialMs: 1_000, retryMaxMs: 8_000, ...options }, clock);
  const subjects = () => transport.sent.map((m) => m.subject);

  it('sends a mail at once, in the order they came', async () => {
    const sut = queue();
    sut.enqueue(mail(1));
    sut.enqueue(mail(2));
    await clock.advance(0);

    expect(subjects()).toEqual(['mail 1', 'mail 2']);
    expect(transport.attemptsAt).toEqual([START, START]);
    expect(sut.depth).toBe(0);
  });

  it('holds mails back past the hourly ceiling and reports how many on the next mail that may go', async () => {
    const sut = queue({ maxPerHour: 2 });

    for (let i = 0; i < 5; i++) sut.enqueue(mail(i));
    await clock.advance(0);
    expect(subjects()).toEqual(['mail 0', 'mail 1']);

    // an hour to the millisecond after the first two: still inside their hour
    await clock.advance(3_600_000 - 1);
    sut.enqueue(mail(5));
    await clock.advance(1);
    sut.enqueue(mail(6));
    await clock.advance(0);

    expect(subjects()).toEqual(['mail 0', 'mail 1', 'mail 6']);
    expect(transport.sent[2].text).toContain('4 earlier alert mail(s) were held back by the ceiling of 2 per hour.');
  });

  it('retries an unreachable server after a wait doubling from retryInitialMs up to retryMaxMs, and starts over after a success', async () => {
    const sut = queue();
    transport.script.push('unreachable', 'unreachable', 'unreachable', 'unreachable', 'unreachable');

    sut.enqueue(mail(1));
    await clock.advance(0);
    await clock.advance(60_000);

    // waits of 1, 2, 4, 8 and 8 seconds between the six attempts
    expect(transport.attemptsAt.map((at) => at - START)).toEqual([0, 1_000, 3_000, 7_000, 15_000, 23_000]);
    expect(subjects()).toEqual(['mail 1']);
    expect(sut.depth).toBe(0);

    transport.script.push('unreachable');
    sut.enqueue(mail(2));
    await clock.advance(0);
    await clock.advance(999);
    expect(subjects()).toEqual(['mail 1']);
    await clock.advance(1);
    expect(subjects()).toEqual(['mail 1', 'mail 2']);
  });

  it('keeps what waits while the server is unreachable and sends it all, in order, once it is back', async () => {
    const sut = queue();
    transport.script.push('unreachable');
    sut.enqueue(mail(1));
    await clock.advance(0);
    sut.enqueue(mail(2));
    await clock.advance(500);
    expect(sut.depth).toBe(2);
    expect(transport.attemptsAt).toHaveLength(1);

    await clock.advance(500);

    expect(subjects()).toEqual(['mail 1', 'mail 2']);
    expect(sut.depth).toBe(0);
  });

  it('drops the oldest mail when the queue is full, and says so on a later mail', async () => {
    const sut = queue({ limit: 2 });
    transport.script.push('unreachable');
    sut.enqueue(mail(1));
    await clock.advance(0);
    sut.enqueue(mail(2));
    sut.enqueue(mail(3));
    expect(sut.depth).toBe(2);

    await clock.advance(1_000);
    sut.enqueue(mail(4));
    await clock.advance(0);

    expect(subjects()).toEqual(['mail 2', 'mail 3', 'mail 4']);
    expect(transport.sent[0].text).toBe('body 2');
    expect(transport.sent[1].text).toBe('body 3\n\n1 earlier alert mail(s) were dropped while the SMTP server was unreachable.');
  });

  it('drops a mail the server refuses for good, without retrying it, and goes on with the next', async () => {
    const sut = queue();
    transport.script.push('rejected');
    sut.enqueue(mail(1));
    sut.enqueue(mail(2));
    await clock.advance(0);

    expect(transport.attemptsAt).toHaveLength(2);
    expect(subjects()).toEqual(['mail 2']);
    expect(clock.pending).toBe(0);
  });

  it('drains: resolves once nothing waits, or when its time is up', async () => {
    const sut = queue();
    transport.script.push('unreachable', 'unreachable', 'unreachable');
    sut.enqueue(mail(1));
    await clock.advance(0);
    let drained = false;
    const drain = sut.drain(2_000).then(() => (drained = true));
    await clock.advance(1_999);
    expect(drained).toBe(false);
    await clock.advance(1);
    await drain;
    expect(sut.depth).toBe(1);

    // attempts at 0, 1 and 3 s failed; the one at 7 s goes through
    const emptied = sut.drain(60_000);
    await clock.advance(5_000);
    await emptied;
    expect(subjects()).toEqual(['mail 1']);
  });

  it('makes no further attempt once stopped', async () => {
    const sut = queue();
    transport.script.push('unreachable');
    sut.enqueue(mail(1));
    await clock.advance(0);

    sut.stop();
    await clock.advance(60_000);

    expect(transport.attemptsAt).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});
