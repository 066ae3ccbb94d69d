import { ago, usePoll } from '../session';
import { Problem } from './problem';

/** This instance's recent refusals and the alerts it raised. */
export function ActivityPanel() {
  const activity = usePoll((api) => api.activity(), 3_000);
  const refusals = activity.value?.refusals ?? [];
  const alerts = activity.value?.alerts ?? [];
  return (
    <div className="panel">
      <Problem error={activity.error} />
      <h3>Alerts</h3>
      <table aria-label="Alerts">
        <thead>
          <tr>
            <th>Severity</th>
            <th>Alert</th>
            <th>Times</th>
            <th>Last</th>
            <th>State</th>
            <th>Details of the last</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.kind} className={`severity-${alert.severity}`}>
              <td>{alert.severity}</td>
              <td>
                {alert.subject} <code>{alert.kind}</code>
              </td>
              <td>{alert.count}</td>
              <td>{ago(alert.last_at)}</td>
              <td>{alert.active ? 'active' : `resolved ${ago(alert.resolved_at)}`}</td>
              <td>
                {Object.entries(alert.details)
                  .map(([key, value]) => `${key}: ${value}`)
                  .join(' · ')}
              </td>
            </tr>
          ))}
          {activity.value && alerts.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No alert since this instance started.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h3>Refusals</h3>
      <table aria-label="Refusals">
        <thead>
          <tr>
            <th>When</th>
            <th>Where</th>
            <th>Refusal</th>
            <th>Address</th>
            <th>Client</th>
            <th>Times</th>
          </tr>
        </thead>
        <tbody>
          {refusals.map((refusal) => (
            <tr key={`${refusal.first_at}-${refusal.route}-${refusal.remote_address}-${refusal.code}`}>
              <td>{ago(refusal.last_at)}</td>
              <td>{refusal.route}</td>
              <td>
                {refusal.status} <code>{refusal.code}</code>
              </td>
              <td>{refusal.remote_address}</td>
              <td>{refusal.client_id ?? ''}</td>
              <td>{refusal.count}</td>
            </tr>
          ))}
          {activity.value && refusals.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                Nothing refused since this instance started.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
