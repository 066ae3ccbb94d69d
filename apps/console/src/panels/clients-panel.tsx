import { type FormEvent, useState } from 'react';
import { type ClientView, parseGroups } from '../admin-api';
import { ago, usePoll, useSession } from '../session';
import { Problem } from './problem';

/** A secret as the gateway gave it, shown once. */
interface Secret {
  readonly clientId: string;
  readonly secret: string;
  readonly rotated: boolean;
}

/** Clients: create one, see and change its grants, rotate its secret, delete it. */
export function ClientsPanel() {
  const { api } = useSession();
  const clients = usePoll((admin) => admin.clients(), 5_000);
  const [clientId, setClientId] = useState('');
  const [groups, setGroups] = useState('');
  const [secret, setSecret] = useState<Secret>();
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();

  async function create(event: FormEvent) {
    event.preventDefault();
    try {
      const created = await api.createClient(clientId.trim(), parseGroups(groups));
      setSecret({ clientId: created.client_id, secret: created.client_secret, rotated: false });
      setOutcome({ ok: true, text: `client ${created.client_id} created` });
      setClientId('');
      setGroups('');
      clients.refresh();
    } catch (error) {
      setOutcome({ ok: false, text: (error as Error).message });
    }
  }

  return (
    <div className="panel">
      <form className="inline" onSubmit={(event) => void create(event)} aria-label="Create a client">
        <label>
          Client id
          <input value={clientId} onChange={(event) => setClientId(event.target.value)} placeholder="acme" required aria-label="New client id" />
        </label>
        <label>
          Granted groups
          <input value={groups} onChange={(event) => setGroups(event.target.value)} placeholder="orders, eu (empty: none)" aria-label="New client groups" />
        </label>
        <button type="submit">Create client</button>
      </form>
      {outcome && (
        <p role="status" className={outcome.ok ? 'ok' : 'problem'}>
          {outcome.text}
        </p>
      )}
      {secret && (
        <div className="secret" role="status" aria-label="Client secret">
          <p>
            {secret.rotated ? 'New secret' : 'Secret'} of <strong>{secret.clientId}</strong>: <code>{secret.secret}</code>
          </p>
          <p className="hint">Copy it now: the gateway keeps only its hash and will not show it again.</p>
          <button type="button" className="quiet" onClick={() => setSecret(undefined)}>
            Done
          </button>
        </div>
      )}
      <Problem error={clients.error} />
      <table aria-label="Clients">
        <thead>
          <tr>
            <th>Client</th>
            <th>Granted groups</th>
            <th>Default groups</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(clients.value ?? []).map((client) => (
            <ClientRow key={client.client_id} client={client} onSecret={setSecret} onChanged={clients.refresh} onOutcome={setOutcome} />
          ))}
          {clients.value?.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No client yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function ClientRow({
  client,
  onSecret,
  onChanged,
  onOutcome,
}: {
  client: ClientView;
  onSecret(secret: Secret): void;
  onChanged(): void;
  onOutcome(outcome: { ok: boolean; text: string }): void;
}) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const [grants, setGrants] = useState(client.groups.join(', '));
  const [confirmDelete, setConfirmDelete] = useState(false);

  async function act(what: () => Promise<string>) {
    try {
      onOutcome({ ok: true, text: await what() });
      onChanged();
    } catch (error) {
      onOutcome({ ok: false, text: (error as Error).message });
    }
  }

  return (
    <tr data-client={client.client_id}>
      <td>{client.client_id}</td>
      <td>
        {editing ? (
          <form
            className="inline"
            onSubmit={(event) => {
              event.preventDefault();
              void act(async () => {
                const updated = await api.setGrants(client.client_id, parseGroups(grants));
                setEditing(false);
                return `${client.client_id} may now join ${updated.groups.join(', ') || 'no group'}`;
              });
            }}
          >
            <input value={grants} onChange={(event) => setGrants(event.target.value)} aria-label={`Groups of ${client.client_id}`} />
            <button type="submit">Save</button>
            <button type="button" className="quiet" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </form>
        ) : (
          client.groups.join(', ') || <em>none</em>
        )}
      </td>
      <td>{client.default_groups === null ? <em>all granted</em> : client.default_groups.join(', ') || <em>none</em>}</td>
      <td>{ago(client.created_at)}</td>
      <td className="row-actions">
        {!editing && (
          <button type="button" className="quiet" onClick={() => setEditing(true)}>
            Edit grants
          </button>
        )}
        <button
          type="button"
          className="quiet"
          onClick={() =>
            void act(async () => {
              const rotated = await api.rotateSecret(client.client_id);
              onSecret({ clientId: rotated.client_id, secret: rotated.client_secret, rotated: true });
              return `secret of ${client.client_id} rotated: its consumers keep their tokens until they register again`;
            })
          }
        >
          Rotate secret
        </button>
        {confirmDelete ? (
          <>
            <button
              type="button"
              className="danger"
              onClick={() => void act(async () => (await api.deleteClient(client.client_id), `client ${client.client_id} deleted`))}
            >
              Confirm delete
            </button>
            <button type="button" className="quiet" onClick={() => setConfirmDelete(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" className="danger quiet" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}
