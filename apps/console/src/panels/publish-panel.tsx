import { type FormEvent, useEffect, useRef, useState } from 'react';
import { connect, type ConnectionHandle, type EntityFrame, register } from '@push-gateway/client';
import { type AdminApi, parseGroups, type Published } from '../admin-api';
import { useSession } from '../session';

/** Entities the test consumer keeps on screen. */
const SHOWN = 20;

interface Arrival {
  readonly seq: number;
  readonly id: string;
  readonly groups: readonly string[];
  readonly data: string;
  /** Milliseconds from the publish's answer to the arrival, when this page published it. */
  readonly afterMs?: number;
}

interface Probe {
  readonly clientId: string;
  readonly connection: ConnectionHandle;
}

/**
 * Publishes a test entity through `POST /entity` and, with the test consumer,
 * watches it arrive: a throwaway client (`console-…`, deleted when the consumer
 * stops or the page goes) that connects from this browser with the client
 * SDK, credentials as subprotocols, like any browser consumer.
 */
export function PublishPanel() {
  const { api } = useSession();
  const [groups, setGroups] = useState('');
  const [data, setData] = useState('{"hello": "from the console"}');
  const [id, setId] = useState('');
  const [answer, setAnswer] = useState<{ ok: boolean; text: string }>();
  const published = useRef(new Map<string, number>());
  const [probeGroups, setProbeGroups] = useState('');
  const [probe, setProbe] = useState<Probe>();
  const [probeState, setProbeState] = useState('stopped');
  const [arrivals, setArrivals] = useState<Arrival[]>([]);
  const probeRef = useRef<Probe>(undefined);

  // a page that goes away takes its test client with it
  useEffect(() => {
    const leave = () => {
      const current = probeRef.current;
      if (current) void stopProbe(api, current, true);
    };
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, [api]);

  async function publish(event: FormEvent) {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return setAnswer({ ok: false, text: 'data is not JSON' });
    }
    const chosen = parseGroups(groups);
    try {
      const result: Published = await api.publish({ ...(id.trim() ? { id: id.trim() } : {}), ...(chosen.length ? { groups: chosen } : {}), data: parsed });
      published.current.set(result.id, performance.now());
      setAnswer({
        ok: true,
        text: result.duplicate
          ? `duplicate of seq ${result.seq}: id ${result.id} was published before, nothing sent`
          : `published as seq ${result.seq} (id ${result.id})`,
      });
    } catch (error) {
      const failure = error as { status?: number; message: string };
      setAnswer({
        ok: false,
        text: failure.status === 403 ? `${failure.message}: this browser’s address is not in ENTITY_ALLOWED_CIDRS` : failure.message,
      });
    }
  }

  async function startProbe(event: FormEvent) {
    event.preventDefault();
    const clientId = `console-${crypto.randomUUID().slice(0, 8)}`;
    const chosen = parseGroups(probeGroups);
    setProbeState('creating a test client');
    try {
      const created = await api.createClient(clientId, chosen);
      const registration = await register({ baseUrl: location.origin, clientId, clientSecret: created.client_secret });
      const connection = connect({
        url: location.origin,
        clientId,
        token: registration.token,
        transport: 'browser',
        onWelcome: (welcome) =>
          setProbeState(`connected as ${clientId}, socket ${welcome.socket_id.slice(0, 8)}, groups ${welcome.groups.join(', ') || 'none'}`),
        onEntity: (entity: EntityFrame) => setArrivals((earlier) => [arrival(entity, published.current), ...earlier].slice(0, SHOWN)),
        onClose: (info) => setProbeState(info.reconnectInMs === undefined ? `closed (${info.code})` : `closed (${info.code}), reconnecting`),
        onError: (error) => setProbeState(`error: ${error.message}`),
      });
      const started = { clientId, connection };
      probeRef.current = started;
      setProbe(started);
      setProbeState(`connecting as ${clientId}`);
      void connection.done.then((stopped) => {
        if (probeRef.current !== started) return;
        setProbeState(stopped.by === 'client' ? 'stopped' : `stopped by the gateway${stopped.code ? ` (${stopped.code})` : ''}`);
      });
    } catch (error) {
      setProbeState(`could not start: ${(error as Error).message}`);
      await api.deleteClient(clientId).catch(() => undefined);
    }
  }

  async function endProbe() {
    const current = probeRef.current;
    if (!current) return;
    probeRef.current = undefined;
    setProbe(undefined);
    await stopProbe(api, current, false);
    setProbeState('stopped');
  }

  return (
    <div className="panel columns">
      <form onSubmit={(event) => void publish(event)} aria-label="Publish an entity">
        <h3>Publish a test entity</h3>
        <label>
          Groups
          <input value={groups} onChange={(event) => setGroups(event.target.value)} placeholder="empty: every consumer" aria-label="Entity groups" />
        </label>
        <label>
          Id
          <input value={id} onChange={(event) => setId(event.target.value)} placeholder="empty: the gateway makes one" aria-label="Entity id" />
        </label>
        <label>
          Data (JSON)
          <textarea rows={4} value={data} onChange={(event) => setData(event.target.value)} aria-label="Entity data" />
        </label>
        <button type="submit">Publish</button>
        {answer && (
          <p role="status" className={answer.ok ? 'ok' : 'problem'}>
            {answer.text}
          </p>
        )}
        <p className="hint">
          Through <code>POST /entity</code>, as the back end publishes: the deliveries counter above moves by the number of consumers that receive it.
        </p>
      </form>
      <div aria-label="Test consumer">
        <h3>Test consumer</h3>
        {probe ? (
          <button type="button" onClick={() => void endProbe()}>
            Stop test consumer
          </button>
        ) : (
          <form className="inline" onSubmit={(event) => void startProbe(event)}>
            <input
              value={probeGroups}
              onChange={(event) => setProbeGroups(event.target.value)}
              placeholder="groups to join"
              aria-label="Test consumer groups"
            />
            <button type="submit">Start test consumer</button>
          </form>
        )}
        <p className="hint" role="status" aria-label="Test consumer state">
          {probeState}
        </p>
        <ol className="arrivals" aria-label="Arrivals">
          {arrivals.map((entity) => (
            <li key={`${entity.seq}-${entity.id}`}>
              <strong>seq {entity.seq}</strong> <code>{entity.id}</code> {entity.groups.length ? `[${entity.groups.join(', ')}]` : '[everyone]'} {entity.data}
              {entity.afterMs !== undefined && <span className="hint"> · {entity.afterMs.toFixed(0)} ms after the answer</span>}
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}

function arrival(entity: EntityFrame, published: Map<string, number>): Arrival {
  const at = published.get(entity.id);
  const text = JSON.stringify(entity.data);
  return {
    seq: entity.seq,
    id: entity.id,
    groups: entity.groups,
    data: text.length > 200 ? `${text.slice(0, 200)}…` : text,
    afterMs: at === undefined ? undefined : Math.max(0, performance.now() - at),
  };
}

/** Closes the test consumer and deletes its client; `leaving`: the page is going, so the delete must outlive it. */
async function stopProbe(api: AdminApi, probe: Probe, leaving: boolean): Promise<void> {
  if (leaving) {
    api.deleteClientOnLeave(probe.clientId);
    void probe.connection.close();
    return;
  }
  await probe.connection.close();
  await api.deleteClient(probe.clientId).catch(() => undefined);
}
