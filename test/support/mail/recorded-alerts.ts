import { AlertService, type Alert } from '@app/alerting';
import type { RunningExperienceApi } from '../processes/experience-api.js';

/** Every alert the app raises from now on, as DevOps would be mailed it. */
export function recordAlerts(api: RunningExperienceApi): Alert[] {
  const raised: Alert[] = [];
  const alerts = api.app.get(AlertService);
  const raise = alerts.raise.bind(alerts);
  alerts.raise = (alert: Alert) => {
    raised.push(alert);
    raise(alert);
  };
  return raised;
}
