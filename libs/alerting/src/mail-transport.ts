import { Injectable } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AlertMail } from './alert-mail.js';

/** Where alert mails go; the one outside connection of this library. */
export abstract class MailTransport {
  /** Rejects with a MailRejectedError when retrying cannot help. */
  abstract send(mail: AlertMail): Promise<void>;
  /** The server, for logs: never its credentials. */
  abstract describe(): string;
  abstract close(): void;
}

/** The SMTP server said no for good: bad credentials, a refused sender or recipient. */
export class MailRejectedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MailRejectedError';
  }
}

export interface SmtpSettings {
  readonly url: URL;
  readonly ca?: Buffer;
  readonly from: string;
  readonly to: readonly string[];
}

/** SMTP through nodemailer: `smtps://` is TLS from the start, `smtp://` upgrades with STARTTLS when offered. */
@Injectable()
export class SmtpMailTransport extends MailTransport {
  private readonly transporter: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    super();
    const { url } = settings;
    const secure = url.protocol === 'smtps:';
    this.transporter = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port) || (secure ? 465 : 587),
      secure,
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      tls: settings.ca ? { ca: settings.ca } : undefined,
      // a slow or silent server must not hold the queue for long
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  async send(mail: AlertMail): Promise<void> {
    try {
      await this.transporter.sendMail({ from: this.settings.from, to: [...this.settings.to], subject: mail.subject, text: mail.text });
    } catch (error) {
      const { code, responseCode } = error as { code?: string; responseCode?: number };
      const permanent = code === 'EAUTH' || code === 'EENVELOPE' || (responseCode !== undefined && responseCode >= 500);
      throw permanent ? new MailRejectedError((error as Error).message, { cause: error }) : error;
    }
  }

  describe(): string {
    return `${this.settings.url.protocol}//${this.settings.url.host}`;
  }

  close(): void {
    this.transporter.close();
  }
}
