import { useCallback, useMemo, useState } from 'react';
import { AdminApi } from './admin-api';
import { SignIn } from './sign-in';
import { SessionContext } from './session';
import { ActivityPanel } from './panels/activity-panel';
import { ClientsPanel } from './panels/clients-panel';
import { OverviewPanel } from './panels/overview-panel';
import { PublishPanel } from './panels/publish-panel';
import { SocketsPanel } from './panels/sockets-panel';
import { SystemPanel } from './panels/system-panel';

const TABS = [
  { id: 'sockets', label: 'Sockets' },
  { id: 'clients', label: 'Clients' },
  { id: 'publish', label: 'Publish' },
  { id: 'activity', label: 'Refusals & alerts' },
  { id: 'system', label: 'system-api' },
] as const;
type Tab = (typeof TABS)[number]['id'];

/** The console: the sign-in form until an admin token is accepted, then the panels. The token lives in this component's state only. */
export function App() {
  const [token, setToken] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [tab, setTab] = useState<Tab>('sockets');
  const signOut = useCallback((reason?: string) => {
    setToken(undefined);
    setNotice(reason);
  }, []);
  const session = useMemo(() => (token === undefined ? undefined : { api: new AdminApi(token), signOut }), [token, signOut]);

  if (session === undefined) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(accepted) => {
          setNotice(undefined);
          setToken(accepted);
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <header className="bar">
        <h1>Push gateway console</h1>
        <button type="button" className="quiet" onClick={() => signOut('signed out')}>
          Sign out
        </button>
      </header>
      <main>
        <OverviewPanel />
        <nav className="tabs" role="tablist">
          {TABS.map(({ id, label }) => (
            <button key={id} type="button" role="tab" aria-selected={tab === id} className={tab === id ? 'tab active' : 'tab'} onClick={() => setTab(id)}>
              {label}
            </button>
          ))}
        </nav>
        <section role="tabpanel" aria-label={TABS.find((entry) => entry.id === tab)?.label}>
          {tab === 'sockets' && <SocketsPanel />}
          {tab === 'clients' && <ClientsPanel />}
          {/* the test consumer of the publish panel lives as long as the session, not the tab */}
          <div hidden={tab !== 'publish'}>
            <PublishPanel />
          </div>
          {tab === 'activity' && <ActivityPanel />}
          {tab === 'system' && <SystemPanel />}
        </section>
      </main>
    </SessionContext.Provider>
  );
}
