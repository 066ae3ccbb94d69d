import { ago, usePoll } from '../session';
import { Problem } from './problem';

/** system-api's health, read through experience-api (`GET /admin/system`): its sources, the outbox and its dead letters. */
export function SystemPanel() {
  const system = usePoll((api) => api.system(), 5_000);
  const view = system.value;
  const health = view?.health ?? null;
  return (
    <div className="panel">
      <Problem error={system.error} />
      {view && !view.reachable && (
        <p role="alert" className="problem">
          {view.url === null
            ? 'SYSTEM_API_URL is not set on experience-api: set it to system-api’s address to see its sources here.'
            : `system-api at ${view.url}: ${view.error}`}
        </p>
      )}
      {health && (
        <>
          <dl className="counters">
            <div className="counter">
              <dt>system-api</dt>
              <dd aria-label="system-api status" className={`status-${health.status}`}>
                {health.status}
              </dd>
            </div>
            <div className="counter">
              <dt>Database</dt>
              <dd>{health.checks.database.status}</dd>
            </div>
            <div className="counter">
              <dt>Forwarding to experience-api</dt>
              <dd>{health.checks.experience_api.status}</dd>
            </div>
            <div className="counter">
              <dt>Outbox pending</dt>
              <dd aria-label="Outbox pending">{health.outbox ? health.outbox.pending.toLocaleString('en') : 'unknown'}</dd>
            </div>
            <div className="counter">
              <dt>Dead letters</dt>
              <dd aria-label="Dead letters">{health.outbox ? health.outbox.dead_letters.toLocaleString('en') : 'unknown'}</dd>
            </div>
          </dl>
          <p className="hint">
            At {view?.url}. Dead letters are kept in system-api’s database (table <code>dead_letters</code>) for operators to look at.
          </p>
          <table aria-label="Sources">
            <thead>
              <tr>
                <th>Source</th>
                <th>Type</th>
                <th>State</th>
                <th>Last success</th>
                <th>Failures in a row</th>
                <th>Waiting</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {health.sources.map((source) => (
                <tr key={source.name} className={`state-${source.state}`}>
                  <td>{source.name}</td>
                  <td>{source.type}</td>
                  <td>{source.state}</td>
                  <td>{ago(source.last_success)}</td>
                  <td>{source.consecutive_failures}</td>
                  <td>{source.waiting}</td>
                  <td>{source.last_error ?? ''}</td>
                </tr>
              ))}
              {health.sources.length === 0 && (
                <tr>
                  <td colSpan={7} className="empty">
                    system-api has no sources (no sources file).
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
