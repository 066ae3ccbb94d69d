import { type FormEvent, useState } from 'react';
import type { SocketView } from '../admin-api';
import { ago, usePoll, useSession } from '../session';
import { Problem } from './problem';

/** Live sockets, filtered by client and group; the selected one can be sent a message or closed. */
export function SocketsPanel() {
  const [clientId, setClientId] = useState('');
  const [group, setGroup] = useState('');
  const [selected, setSelected] = useState<string>();
  const [outcome, setOutcome] = useState<Outcome>();
  const filter = { clientId: clientId.trim(), group: group.trim() };
  const sockets = usePoll((api) => api.sockets(filter), 2_000, `${filter.clientId}|${filter.group}`);
  const list = sockets.value ?? [];
  const chosen = list.find((socket) => socket.socket_id === selected);

  return (
    <div className="panel">
      <div className="filters">
        <label>
          Client
          <input value={clientId} onChange={(event) => setClientId(event.target.value)} placeholder="any client" aria-label="Filter by client" />
        </label>
        <label>
          Group
          <input value={group} onChange={(event) => setGroup(event.target.value)} placeholder="any group" aria-label="Filter by group" />
        </label>
        <span className="hint">{sockets.value ? `${list.length} socket${list.length === 1 ? '' : 's'}` : 'Loading…'}</span>
      </div>
      <Problem error={sockets.error} />
      <table aria-label="Sockets">
        <thead>
          <tr>
            <th>Socket</th>
            <th>Client</th>
            <th>Groups</th>
            <th>Address</th>
            <th>Connected</th>
            <th>Sent</th>
            <th>Buffered</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {list.map((socket) => (
            <tr
              key={socket.socket_id}
              className={socket.socket_id === selected ? 'selected' : undefined}
              onClick={() => setSelected(socket.socket_id)}
              data-client={socket.client_id ?? ''}
            >
              <td>
                <button type="button" className="link" onClick={() => setSelected(socket.socket_id)}>
                  <code>{socket.socket_id.slice(0, 8)}</code>
                </button>
              </td>
              <td>
                {socket.client_id ?? (
                  <em>
                    {socket.type} {socket.path}
                  </em>
                )}
              </td>
              <td>{socket.groups.join(', ') || <em>none</em>}</td>
              <td>{socket.remote_address}</td>
              <td>{ago(socket.connected_at)}</td>
              <td>{socket.messages_sent}</td>
              <td>{socket.bytes_buffered}</td>
              <td>{socket.state}</td>
            </tr>
          ))}
          {sockets.value && list.length === 0 && (
            <tr>
              <td colSpan={8} className="empty">
                No socket is open{filter.clientId || filter.group ? ' that matches' : ''}.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {chosen && (
        <SocketActions
          key={chosen.socket_id}
          socket={chosen}
          onOutcome={(next) => {
            setOutcome(next);
            sockets.refresh();
          }}
        />
      )}
      {outcome && (
        <p role="status" className={outcome.ok ? 'ok' : 'problem'}>
          {outcome.text}
        </p>
      )}
    </div>
  );
}

/** What the last operation on a socket did; shown under the table, since a closed socket leaves it. */
interface Outcome {
  readonly ok: boolean;
  readonly text: string;
}

function SocketActions({ socket, onOutcome }: { socket: SocketView; onOutcome(outcome: Outcome): void }) {
  const { api } = useSession();
  const [data, setData] = useState('{"notice": "maintenance at 22:00"}');
  const [code, setCode] = useState('1000');
  const [reason, setReason] = useState('closed by an operator');
  async function send(event: FormEvent) {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return onOutcome({ ok: false, text: 'the message is not JSON' });
    }
    try {
      await api.sendMessage(socket.socket_id, parsed);
      onOutcome({ ok: true, text: `message sent to ${socket.socket_id.slice(0, 8)}` });
    } catch (error) {
      onOutcome({ ok: false, text: (error as Error).message });
    }
  }

  async function close(event: FormEvent) {
    event.preventDefault();
    try {
      await api.closeSocket(socket.socket_id, Number(code), reason);
      onOutcome({ ok: true, text: `socket ${socket.socket_id.slice(0, 8)} closed with ${code}` });
    } catch (error) {
      onOutcome({ ok: false, text: (error as Error).message });
    }
  }

  return (
    <div className="actions" aria-label="Selected socket">
      <h3>
        Socket <code>{socket.socket_id}</code> {socket.client_id && <>of {socket.client_id}</>}
      </h3>
      <form onSubmit={(event) => void send(event)}>
        <label>
          Message (JSON)
          <textarea rows={2} value={data} onChange={(event) => setData(event.target.value)} aria-label="Message to send" />
        </label>
        <button type="submit">Send message</button>
      </form>
      <form onSubmit={(event) => void close(event)}>
        <label>
          Close code
          <select value={code} onChange={(event) => setCode(event.target.value)} aria-label="Close code">
            <option value="1000">1000 done: the SDK stops</option>
            <option value="4000">4000 come back: the SDK reconnects</option>
          </select>
        </label>
        <label>
          Reason
          <input value={reason} maxLength={120} onChange={(event) => setReason(event.target.value)} aria-label="Close reason" />
        </label>
        <button type="submit" className="danger">
          Close socket
        </button>
      </form>
    </div>
  );
}
