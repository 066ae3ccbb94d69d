// Every call the console makes: the admin API (with the admin token, held in memory only) and POST /entity.

/** An answer other than the one asked for, with the gateway's `{error, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Stats {
  readonly at: string;
  readonly instance_id: string;
  readonly sockets_open: number;
  readonly entities_published: number;
  readonly deliveries: number;
  readonly delivery_failures: number;
  readonly handshakes_accepted: number;
  readonly handshakes_refused: number;
}

export interface SocketView {
  readonly socket_id: string;
  readonly type: 'inbound' | 'outbound';
  readonly path: string;
  readonly client_id: string | null;
  readonly groups: string[];
  readonly remote_address: string;
  readonly connected_at: string;
  readonly messages_sent: number;
  readonly bytes_buffered: number;
  readonly state: string;
}

export interface ClientView {
  readonly client_id: string;
  readonly groups: string[];
  readonly default_groups: string[] | null;
  readonly created_at: string;
}

export interface Refusal {
  readonly place: 'handshake' | 'http';
  readonly route: string;
  readonly status: number;
  readonly code: string;
  readonly remote_address: string;
  readonly client_id: string | null;
  readonly count: number;
  readonly first_at: string;
  readonly last_at: string;
}

export interface AlertSummary {
  readonly kind: string;
  readonly severity: 'critical' | 'error' | 'warning';
  readonly subject: string;
  readonly count: number;
  readonly first_at: string;
  readonly last_at: string;
  readonly active: boolean;
  readonly resolved_at: string | null;
  readonly details: Record<string, string>;
}

export interface Activity {
  readonly refusals: Refusal[];
  readonly alerts: AlertSummary[];
}

export interface SourceHealth {
  readonly name: string;
  readonly type: string;
  readonly state: string;
  readonly last_success: string | null;
  readonly last_error: string | null;
  readonly consecutive_failures: number;
  readonly waiting: number;
}

export interface SystemHealth {
  readonly status: 'ok' | 'degraded' | 'error';
  readonly checks: { readonly database: { status: string; message?: string }; readonly experience_api: { status: string } };
  readonly sources: SourceHealth[];
  readonly outbox: { readonly pending: number; readonly dead_letters: number } | null;
}

export interface SystemView {
  readonly url: string | null;
  readonly reachable: boolean;
  readonly health: SystemHealth | null;
  readonly error: string | null;
}

export interface Published {
  readonly id: string;
  readonly seq: number;
  readonly duplicate?: boolean;
}

/** The admin API as the console uses it; one per admin token. */
export class AdminApi {
  constructor(private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown, authorized = true): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (authorized) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
    } catch (error) {
      throw new ApiError(0, 'unreachable', `the gateway does not answer (${(error as Error).message})`);
    }
    const text = await response.text();
    let answer: unknown;
    try {
      answer = text === '' ? undefined : JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (!response.ok) {
      const { error, message } = (answer ?? {}) as { error?: unknown; message?: unknown };
      throw new ApiError(
        response.status,
        typeof error === 'string' ? error : 'error',
        typeof message === 'string' ? message : `${response.status} ${response.statusText}`,
      );
    }
    return answer as T;
  }

  stats(): Promise<Stats> {
    return this.call('GET', '/admin/stats');
  }

  activity(): Promise<Activity> {
    return this.call('GET', '/admin/activity');
  }

  system(): Promise<SystemView> {
    return this.call('GET', '/admin/system');
  }

  async sockets(filter: { clientId?: string; group?: string }): Promise<SocketView[]> {
    const query = new URLSearchParams({ limit: '500' });
    if (filter.clientId) query.set('client_id', filter.clientId);
    if (filter.group) query.set('group', filter.group);
    const page = await this.call<{ sockets: SocketView[] }>('GET', `/admin/sockets?${query}`);
    return page.sockets;
  }

  closeSocket(socketId: string, code: number, reason: string): Promise<void> {
    return this.call('DELETE', `/admin/sockets/${encodeURIComponent(socketId)}`, { code, reason });
  }

  sendMessage(socketId: string, data: unknown): Promise<void> {
    return this.call('POST', `/admin/sockets/${encodeURIComponent(socketId)}/messages`, { data });
  }

  async clients(): Promise<ClientView[]> {
    const page = await this.call<{ clients: ClientView[] }>('GET', '/admin/clients?limit=500');
    return page.clients;
  }

  createClient(clientId: string, groups: string[]): Promise<{ client_id: string; client_secret: string }> {
    return this.call('POST', '/admin/clients', { client_id: clientId, groups });
  }

  setGrants(clientId: string, groups: string[]): Promise<ClientView> {
    return this.call('PATCH', `/admin/clients/${encodeURIComponent(clientId)}`, { groups });
  }

  rotateSecret(clientId: string): Promise<{ client_id: string; client_secret: string }> {
    return this.call('POST', `/admin/clients/${encodeURIComponent(clientId)}/secret`, {});
  }

  deleteClient(clientId: string): Promise<void> {
    return this.call('DELETE', `/admin/clients/${encodeURIComponent(clientId)}`);
  }

  /** Deletes a client from a page that is going away: the request outlives the page. */
  deleteClientOnLeave(clientId: string): void {
    void fetch(`/admin/clients/${encodeURIComponent(clientId)}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${this.token}` },
      keepalive: true,
      credentials: 'omit',
    }).catch(() => undefined);
  }

  /** POST /entity: allowed by the caller's address (ENTITY_ALLOWED_CIDRS), not by the admin token. */
  publish(entity: { id?: string; groups?: string[]; data: unknown }): Promise<Published> {
    return this.call('POST', '/entity', entity, false);
  }
}

/** A list of group names as typed: "orders, eu" → ["orders", "eu"]. */
export function parseGroups(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((group) => group.trim())
    .filter((group) => group !== '');
}
