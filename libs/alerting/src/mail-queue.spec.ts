import type { AlertMail } from './alert-mail.js';
import { MailQueue } from './mail-queue.js';
import { MailTransport } from './mail-transport.js';

/** Records what it is given; the SMTP path itself is covered against a real server in alert.service.spec.ts. */
class RecordingTransport extends MailTransport {
  readonly sent: AlertMail[] = [];
  async send(mail: AlertMail): Promise<void> {
    this.sent.push(mail);
  }
  describe(): string {
    return 'smtp://recorder';
  }
  close(): void {}
}

const mail = (n: number): AlertMail => ({ subject: `mail ${n}`, text: `body ${n}` });
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(MailQueue.name, () => {
  it('holds mails back past the hourly ceiling and reports how many on the next mail that may go', async () => {
    let now = 0;
    const transport = new RecordingTransport();
    const sut = new MailQueue(transport, { limit: 10, maxPerHour: 2, retryInitialMs: 10, retryMaxMs: 10 }, () => now);

    for (let i = 0; i < 5; i++) sut.enqueue(mail(i));
    await settle();
    expect(transport.sent.map((m) => m.subject)).toEqual(['mail 0', 'mail 1']);

    now += 3_600_001;
    sut.enqueue(mail(5));
    await settle();
    expect(transport.sent.map((m) => m.subject)).toEqual(['mail 0', 'mail 1', 'mail 5']);
    expect(transport.sent[2].text).toContain('3 earlier alert mail(s) were held back by the ceiling of 2 per hour.');
  });
});
