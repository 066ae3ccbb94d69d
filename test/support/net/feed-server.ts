import type { IncomingHttpHeaders } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { freePort } from './free-port.js';

/**
 * An upstream feed: a real `ws` server on a port of its own, which the test
 * stops and starts again on the same port, and which records every
 * connection made to it with its handshake headers and how it closed.
 */
export class FeedServer {
  private server?: WebSocketServer;
  /** Every connection ever accepted, in order. */
  readonly connections: Array<{ socket: WebSocket; headers: IncomingHttpHeaders; path: string; closed?: { code: number; reason: string } }> = [];

  private constructor(readonly port: number) {}

  static async start(path = '/feed'): Promise<FeedServer> {
    const feed = new FeedServer(await freePort());
    await feed.listen();
    return Object.assign(feed, { path });
  }

  readonly path: string = '/feed';

  get url(): string {
    return `ws://127.0.0.1:${this.port}${this.path}`;
  }

  /** Connections open now. */
  get open(): number {
    return this.connections.filter((connection) => connection.socket.readyState === WebSocket.OPEN).length;
  }

  /** The most recent connection. */
  get latest(): (typeof this.connections)[number] | undefined {
    return this.connections[this.connections.length - 1];
  }

  /** Listens again (on the same port) after `stop`. */
  async listen(): Promise<void> {
    const server = new WebSocketServer({ port: this.port, host: '127.0.0.1' });
    server.on('connection', (socket, request) => {
      const connection: (typeof this.connections)[number] = { socket, headers: request.headers, path: request.url ?? '' };
      this.connections.push(connection);
      socket.once('close', (code, reason) => (connection.closed = { code, reason: reason.toString() }));
    });
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    this.server = server;
  }

  /** Sends to every open connection. */
  send(data: string | Buffer): void {
    for (const { socket } of this.connections) if (socket.readyState === WebSocket.OPEN) socket.send(data, { binary: typeof data !== 'string' });
  }

  /** Drops every connection (no close frame, as a crash would) and stops listening. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const { socket } of this.connections) socket.terminate();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
