import { hostname } from 'node:os';
import { type ConfigReader, configNamespace } from '@app/platform';
import type { AlertingOptions } from './alerting.options.js';

export type AlertSettings = Omit<AlertingOptions, 'app' | 'instanceId'>;

/** Reads SMTP_URL, SMTP_CA_FILE, ALERT_EMAIL_TO, ALERT_EMAIL_FROM, ALERT_FOLD_WINDOW and ALERT_MAX_PER_HOUR. */
export function readAlertSettings(read: ConfigReader): AlertSettings {
  const smtpUrl = read.url('SMTP_URL', ['smtp:', 'smtps:']);
  const to = read.emailList('ALERT_EMAIL_TO');
  if (smtpUrl !== undefined && read.string('ALERT_EMAIL_TO') === undefined) {
    read.problem('ALERT_EMAIL_TO', 'is required when SMTP_URL is set: the addresses that receive alerts');
  }
  return {
    smtpUrl,
    smtpCa: read.file('SMTP_CA_FILE'),
    to,
    from: read.email('ALERT_EMAIL_FROM', `push-gateway@${hostname()}`),
    foldWindowMs: read.duration('ALERT_FOLD_WINDOW', '5m', { minMs: 100, maxMs: 86_400_000 }),
    maxMailsPerHour: read.integer('ALERT_MAX_PER_HOUR', 30, { min: 1, max: 10_000 }),
  };
}

/**
 * Alerting's configuration namespace: the app reads it with its own variables (every problem of a
 * start reported together) and registers it; `AlertingModule.forConfig` injects it.
 */
export const alertingConfig = configNamespace('alerting', readAlertSettings);
