import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** A real SMTP server in the test process that keeps every mail it accepts, parsed. */
export class MailCatcher {
  readonly mails: ParsedMail[] = [];
  /** Per accepted mail: whether its session was encrypted. */
  readonly sessions: Array<{ secure: boolean }> = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  /** Listens on `port` (0: any free one); `users` turns on required AUTH with those credentials. */
  static async start(
    options: { port?: number; users?: Record<string, string>; tls?: { key: Buffer; cert: Buffer }; secure?: boolean } = {},
  ): Promise<MailCatcher> {
    let catcher: MailCatcher | undefined;
    const settings: SMTPServerOptions = {
      secure: options.secure ?? false,
      ...(options.tls ?? {}),
      disabledCommands: options.tls ? [] : ['STARTTLS'],
      authOptional: options.users === undefined,
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (options.users && options.users[auth.username ?? ''] === auth.password) return callback(null, { user: auth.username });
        callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData(stream, session, callback) {
        simpleParser(stream)
          .then((mail) => {
            catcher!.sessions.push({ secure: session.secure });
            catcher!.mails.push(mail);
            for (const wake of catcher!.waiters.splice(0)) wake();
            callback();
          })
          .catch(callback);
      },
    };
    const server = new SMTPServer(settings);
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
    catcher = new MailCatcher(server, (server.server.address() as AddressInfo).port);
    return catcher;
  }

  url(credentials = ''): string {
    return `smtp://${credentials ? `${credentials}@` : ''}127.0.0.1:${this.port}`;
  }

  /** Waits until at least `count` mails arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ParsedMail[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.mails.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} mail(s), got ${this.mails.length}: ${this.mails.map((m) => m.subject).join(' | ')}`);
      await this.nextMail(left);
    }
    return this.mails;
  }

  /** Resolves when the next mail arrives, or after `timeoutMs`. */
  private nextMail(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits for the first mail with this subject. */
  async waitForSubject(subject: string, timeoutMs = 10_000): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mail = this.mails.find((m) => m.subject === subject);
      if (mail) return mail;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no mail "${subject}" within ${timeoutMs} ms; got: ${this.mails.map((m) => m.subject).join(' | ')}`);
      await this.nextMail(left);
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
