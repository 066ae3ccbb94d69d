import { WebSocket } from 'ws';
import { type ItemSink, type StreamingSource, SourceUnavailableError } from '../source.js';
import type { WebSocketSourceDefinition } from '../source-definition.js';

/**
 * An outbound socket to an upstream feed; each text message is an item. The
 * runner reconnects with backoff when the feed goes away. An upstream socket
 * has no acknowledgements, so a message that cannot be stored closes the
 * connection rather than being dropped silently, and the feed's own resend
 * on reconnect (if it has one) takes over.
 */
export class WebSocketSource implements StreamingSource {
  readonly mode = 'streaming';
  private socket?: WebSocket;

  constructor(
    private readonly definition: WebSocketSourceDefinition,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  connect(sink: ItemSink, lost: (error: Error) => void): Promise<void> {
    const headers = { ...this.definition.headers };
    for (const [name, variable] of Object.entries(this.definition.headersEnv)) headers[name] = this.env[variable] ?? '';
    const socket = new WebSocket(this.definition.url, { headers, handshakeTimeout: 10_000, maxPayload: 16 * 1_048_576 });
    this.socket = socket;
    // one message at a time, in arrival order
    let chain = Promise.resolve();
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => {
        reject(new SourceUnavailableError(`${this.definition.url.origin} refused the upgrade with ${response.statusCode}`));
        socket.terminate();
      });
      socket.on('error', (error) => {
        if (socket.readyState === WebSocket.CONNECTING) reject(new SourceUnavailableError(`${this.definition.url.origin}: ${error.message}`));
      });
      socket.once('close', (code) => {
        reject(new SourceUnavailableError(`${this.definition.url.origin} closed before opening (${code})`));
        if (this.socket === socket) lost(new SourceUnavailableError(`the feed closed the connection (${code})`));
      });
      socket.on('message', (data, isBinary) => {
        chain = chain.then(() => this.handle(socket, isBinary ? undefined : data.toString('utf8'), sink));
      });
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
  }

  private async handle(socket: WebSocket, text: string | undefined, sink: ItemSink): Promise<void> {
    try {
      if (text === undefined) return await sink.reject('(binary message)', 'binary messages are not items');
      let item: unknown;
      try {
        item = JSON.parse(text);
      } catch {
        return await sink.reject(text.slice(0, 4_096), 'the message is not JSON');
      }
      await sink.store([item]);
    } catch {
      socket.terminate();
    }
  }
}
