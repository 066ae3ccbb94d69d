import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type INestApplicationContext, Logger, type Type } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { HandshakeRefusedError } from './handshake-refused.error.js';
import { attachAuthorization, type UpgradeGuard } from './upgrade-guard.js';

type GuardedServer = WebSocketServer & { path: string };

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** A comma-separated list of RFC 7230 tokens, as `ws` parses `Sec-WebSocket-Protocol`. */
const SUBPROTOCOL_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/** Writes a refusal as a plain HTTP response with a JSON body and closes the connection. */
function refuse(socket: Duplex, refusal: HandshakeRefusedError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: refusal.code, message: refusal.message });
  const headers = {
    Connection: 'close',
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    ...refusal.headers,
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n${head}\r\n${body}`);
}

/**
 * Stays on the socket for its whole life; a plain function, so that it keeps
 * nothing else alive (a closure here would hold the upgrade request).
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** The checks `ws` would make, done first so that a malformed request is refused in our format. */
function checkUpgradeRequest(request: IncomingMessage): void {
  const key = request.headers['sec-websocket-key'];
  const version = request.headers['sec-websocket-version'];
  if (
    request.method !== 'GET' ||
    request.headers.upgrade?.toLowerCase() !== 'websocket' ||
    typeof key !== 'string' ||
    !WEBSOCKET_KEY.test(key) ||
    (version !== '13' && version !== '8')
  ) {
    throw new HandshakeRefusedError(400, 'not a valid WebSocket upgrade request', { 'Sec-WebSocket-Version': '13' });
  }
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols !== undefined && !isSubprotocolList(protocols)) {
    throw new HandshakeRefusedError(400, 'Sec-WebSocket-Protocol must be a comma-separated list of distinct tokens');
  }
}

/** What `ws` would accept, so that it never answers a malformed list itself (in HTML, after the credentials were checked). */
function isSubprotocolList(header: string): boolean {
  if (!SUBPROTOCOL_LIST.test(header)) return false;
  const names = header.split(',').map((name) => name.trim());
  return new Set(names).size === names.length;
}

/**
 * `WsAdapter` with guards on the HTTP upgrade: a gateway declared with
 * `@WebSocketGateway({ path, upgradeGuard: SomeGuard })` has `SomeGuard` run on
 * every upgrade request to its path, *before* the handshake completes, so that
 * a refused client never gets a socket. Refusals are plain HTTP answers with a
 * JSON body; an unknown path gets 404.
 */
export class GuardedWsAdapter extends WsAdapter {
  private readonly guardLogger = new Logger(GuardedWsAdapter.name);
  private readonly guards = new Map<WebSocketServer, UpgradeGuard>();
  private readonly listeners = new Map<Server, (request: IncomingMessage, socket: Duplex, head: Buffer) => void>();

  constructor(
    private readonly app: INestApplicationContext,
    /** Server options every gateway gets unless it sets its own, such as `maxPayload`. */
    private readonly serverDefaults: Record<string, unknown> = {},
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> & { path?: string; upgradeGuard?: Type<UpgradeGuard> } = {}): unknown {
    const { upgradeGuard, ...serverOptions } = options;
    const server = super.create(port, { ...this.serverDefaults, ...serverOptions }) as WebSocketServer;
    if (upgradeGuard) this.guards.set(server, this.app.get(upgradeGuard, { strict: false }));
    return server;
  }

  /** Consumers that may not send messages have no message handlers, so nothing is parsed on their behalf. */
  override bindMessageHandlers(client: unknown, handlers: unknown[], transform: (data: unknown) => never): void {
    if (handlers.length > 0) super.bindMessageHandlers(client, handlers as never, transform);
  }

  /**
   * Nest would add a `close` listener to every client, to call the gateway's
   * `handleDisconnect`; no gateway on this adapter has one (each session
   * listens to its socket's `close` itself), and a listener per client is
   * memory per idle consumer for nothing. A gateway that needs to hear of
   * disconnects listens to the socket's `close` in `handleConnection`.
   */
  override bindClientDisconnect(): void {
    // nothing: see above
  }

  /** Socket errors are the gateway's to report, with the client they belong to. */
  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('error', (error) => this.guardLogger.error(error));
    return server;
  }

  override async dispose(): Promise<void> {
    for (const [httpServer, listener] of this.listeners) httpServer.off('upgrade', listener);
    this.listeners.clear();
    await super.dispose();
  }

  protected override ensureHttpServerExists(port: number, httpServer?: Server): Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    // the parent registers its own upgrade listener; ours replaces it, so it is taken off again
    const before = new Set(httpServer?.listeners('upgrade') ?? []);
    const server = super.ensureHttpServerExists(port, httpServer) ?? httpServer;
    if (!server) return undefined;
    for (const listener of server.listeners('upgrade')) {
      if (!before.has(listener)) server.off('upgrade', listener as never);
    }
    const listener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(port, request, socket, head);
    server.on('upgrade', listener);
    this.listeners.set(server, listener);
    return server;
  }

  private async upgrade(port: number, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // a peer that resets mid-handshake must not take the process down
    socket.on('error', destroyOnError);
    const wsServer = this.findServer(port, request);
    if (!wsServer) {
      refuse(socket, new HandshakeRefusedError(404, 'no WebSocket endpoint at this path'));
      return;
    }
    const guard = this.guards.get(wsServer);
    let authorization: unknown;
    try {
      checkUpgradeRequest(request);
      authorization = guard ? await guard.authorize(request) : undefined;
    } catch (error) {
      if (!(error instanceof HandshakeRefusedError)) this.guardLogger.error(error);
      refuse(socket, error instanceof HandshakeRefusedError ? error : new HandshakeRefusedError(500, 'internal error'));
      return;
    }
    let completed = false;
    const abandon = () => {
      if (!completed && guard) void guard.abandon(authorization).catch((error: Error) => this.guardLogger.warn(error.message));
    };
    if (socket.destroyed) return abandon();
    // the 101 answer and whatever the gateway sends on connection (the welcome) leave in one write
    socket.cork();
    wsServer.handleUpgrade(request, socket, head, (client: WebSocket) => {
      completed = true;
      attachAuthorization(client, authorization);
      wsServer.emit('connection', client, request);
      socket.uncork();
    });
    // ws completes an upgrade in the call (these servers have no verifyClient); one it did not complete, it refused or
    // found its peer gone, and the claim is undone once the socket has closed: no listener on the upgrades that succeed
    if (!completed) {
      if (socket.destroyed) abandon();
      else socket.once('close', abandon);
    }
  }

  private findServer(port: number, request: IncomingMessage): GuardedServer | undefined {
    const servers = (this.wsServersRegistry.get(port) ?? []) as GuardedServer[];
    const url = request.url ?? '/';
    // the usual request names the path as it is: no URL to parse
    const plain = servers.find((server) => url === server.path || (url.startsWith(server.path) && url[server.path.length] === '?'));
    if (plain) return plain;
    let pathname: string;
    try {
      pathname = new URL(url, 'ws://localhost').pathname;
    } catch {
      return undefined;
    }
    return servers.find((server) => server.path === pathname);
  }
}
