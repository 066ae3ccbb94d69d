import { type DynamicModule, Module } from '@nestjs/common';
import { AlertService } from './alert.service.js';
import { ALERTING_OPTIONS, type AlertingOptions } from './alerting.options.js';
import { MailTransport, SmtpMailTransport } from './mail-transport.js';

@Module({})
export class AlertingModule {
  static forRoot(options: AlertingOptions): DynamicModule {
    return {
      module: AlertingModule,
      global: true,
      providers: [
        { provide: ALERTING_OPTIONS, useValue: options },
        {
          provide: MailTransport,
          useFactory: () => (options.smtpUrl ? new SmtpMailTransport({ url: options.smtpUrl, ca: options.smtpCa, from: options.from, to: options.to }) : null),
        },
        AlertService,
      ],
      exports: [AlertService],
    };
  }
}
