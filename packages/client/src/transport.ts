// One WebSocket attempt, in Node (the `ws` package, credentials as headers) or in a browser (the global
// WebSocket, credentials as subprotocols, docs/protocol.md "Credentials as subprotocols").

/** Where and who: everything a handshake says. */
export interface Handshake {
  /** ws(s)://host:port/ws/publish */
  readonly url: string;
  readonly clientId: string;
  readonly token: string;
  readonly groups?: readonly string[];
  readonly lastSeq?: number;
  readonly epoch?: string;
}

/** What an attempt reports, once each except `text`. */
export interface AttemptEvents {
  open(): void;
  text(text: string): void;
  /** The gateway answered the upgrade with an HTTP status (Node only: browsers do not expose it). */
  refused(status: number, error: string | undefined, message: string, retryAfter: string | undefined): void;
  /** The socket closed, or the attempt failed before it opened (`opened` false). */
  closed(code: number, reason: string, opened: boolean): void;
  /** A network error; `closed` follows. */
  failed(error: Error): void;
}

export interface Attempt {
  /** Closes the socket (1000), or abandons the handshake. */
  close(): void;
}

export type TransportKind = 'node' | 'browser';

export type Opener = (handshake: Handshake, events: AttemptEvents) => Attempt;

/** The minimum of the WHATWG WebSocket this SDK uses, so that no DOM typings are needed. */
interface BrowserSocket {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  close(code?: number): void;
}
type BrowserSocketClass = new (url: string, protocols?: string[]) => BrowserSocket;

function browserSocketClass(): BrowserSocketClass | undefined {
  return (globalThis as { WebSocket?: BrowserSocketClass }).WebSocket;
}

function runsOnNode(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === 'string';
}

/** The transport to use: `ws` on Node when it can be loaded, else the global WebSocket. */
export async function opener(kind?: TransportKind): Promise<Opener> {
  if (kind !== 'browser' && runsOnNode()) {
    try {
      const { WebSocket } = await import('ws');
      return nodeOpener(WebSocket);
    } catch (error) {
      if (kind === 'node' || !browserSocketClass()) throw new Error(`the ws package cannot be loaded: ${(error as Error).message}`, { cause: error });
    }
  }
  const Socket = browserSocketClass();
  if (!Socket) throw new Error('no WebSocket: install the ws package (Node) or run where a global WebSocket exists');
  return browserOpener(Socket);
}

function nodeOpener(WebSocket: typeof import('ws').WebSocket): Opener {
  return (handshake, events) => {
    const headers: Record<string, string> = { client_id: handshake.clientId, Authorization: `Bearer ${handshake.token}` };
    if (handshake.groups !== undefined && handshake.groups.length > 0) headers.groups = handshake.groups.join(',');
    if (handshake.lastSeq !== undefined) {
      headers.last_seq = String(handshake.lastSeq);
      if (handshake.epoch !== undefined) headers.epoch = handshake.epoch;
    }
    const socket = new WebSocket(handshake.url, { headers, perMessageDeflate: false });
    let opened = false;
    let refused = false;
    socket.on('open', () => {
      opened = true;
      events.open();
    });
    socket.on('message', (data, isBinary) => {
      if (!isBinary) events.text(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    socket.on('unexpected-response', (_request, response) => {
      refused = true;
      const chunks: Buffer[] = [];
      const settle = (): void => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: { error?: unknown; message?: unknown } = {};
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the status says enough
        }
        const retryAfter = response.headers['retry-after'];
        events.refused(
          response.statusCode ?? 0,
          typeof body.error === 'string' ? body.error : undefined,
          typeof body.message === 'string' ? body.message : text.slice(0, 200),
          Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        );
        socket.terminate();
      };
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', settle);
      response.once('error', settle);
    });
    socket.on('error', (error) => {
      if (!refused) events.failed(error);
    });
    socket.on('close', (code, reason) => {
      if (!refused) events.closed(code, reason.toString('utf8'), opened);
    });
    return {
      close: () => {
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else socket.close(1000);
      },
    };
  };
}

function browserOpener(Socket: BrowserSocketClass): Opener {
  return (handshake, events) => {
    const url = new URL(handshake.url);
    if (handshake.groups !== undefined && handshake.groups.length > 0) url.searchParams.set('groups', handshake.groups.join(','));
    const protocols = ['push.v1', `bearer.${handshake.token}`, `client_id.${handshake.clientId}`];
    if (handshake.lastSeq !== undefined) {
      protocols.push(`since.${handshake.lastSeq}`);
      if (handshake.epoch !== undefined) protocols.push(`epoch.${handshake.epoch}`);
    }
    const socket = new Socket(url.toString(), protocols);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      events.open();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === 'string') events.text(event.data);
    };
    socket.onerror = () => events.failed(new Error(opened ? 'WebSocket error' : 'WebSocket handshake failed (a browser does not say why)'));
    socket.onclose = (event) => events.closed(event.code, event.reason, opened);
    return { close: () => socket.close(1000) };
  };
}
