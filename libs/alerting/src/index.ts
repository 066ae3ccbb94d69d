export type { Alert, AlertSeverity } from './alert.js';
export { AlertService } from './alert.service.js';
export { AlertingModule } from './alerting.module.js';
export type { AlertingOptions } from './alerting.options.js';
export { alertingConfig, readAlertSettings, type AlertSettings } from './alerting.config.js';
export type { AlertKindSummary } from './recent-alerts.js';
