import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AlertService } from './alert.service.js';
import { alertingConfig } from './alerting.config.js';
import { ALERTING_OPTIONS, type AlertingOptions } from './alerting.options.js';
import { MailTransport, SmtpMailTransport } from './mail-transport.js';

/** The SMTP transport of the options, or none: alerts are then logged only. */
const mailTransport: Provider = {
  provide: MailTransport,
  useFactory: (options: AlertingOptions) =>
    options.smtpUrl ? new SmtpMailTransport({ url: options.smtpUrl, ca: options.smtpCa, from: options.from, to: options.to }) : null,
  inject: [ALERTING_OPTIONS],
};

@Module({})
export class AlertingModule {
  /** Alerting with its settings from the app's configuration (the `alertingConfig` namespace). */
  static forConfig(identity: Pick<AlertingOptions, 'app' | 'instanceId'>): DynamicModule {
    return AlertingModule.with({
      provide: ALERTING_OPTIONS,
      useFactory: (settings: ConfigType<typeof alertingConfig>): AlertingOptions => ({ ...settings, ...identity }),
      inject: [alertingConfig.KEY],
    });
  }

  /** Alerting with every option given here: for specs and embedders without @nestjs/config. */
  static forRoot(options: AlertingOptions): DynamicModule {
    return AlertingModule.with({ provide: ALERTING_OPTIONS, useValue: options });
  }

  private static with(options: Provider): DynamicModule {
    return { module: AlertingModule, global: true, providers: [options, mailTransport, AlertService], exports: [AlertService] };
  }
}
