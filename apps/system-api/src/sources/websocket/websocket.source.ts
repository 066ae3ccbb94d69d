import { WebSocket } from 'ws';
import type { ItemSink } from '../../sink/item-sink.js';
import { type StreamingSource, SourceUnavailableError } from '../source.js';
import type { WebSocketSourceDefinition } from '../source-definition.js';

/** Messages stored per call: one statement for a burst, instead of one per message. */
const STORE_BATCH = 500;

/**
 * An outbound socket to an upstream feed; each text message is an item. The
 * runner reconnects with backoff when the feed goes away. An upstream socket
 * has no acknowledgements, so a message that cannot be stored closes the
 * connection rather than being dropped silently, and the feed's own resend
 * on reconnect (if it has one) takes over. While more than `max_pending`
 * messages wait to be stored the socket is paused: TCP makes the feed wait,
 * and our memory stays bounded.
 */
export class WebSocketSource implements StreamingSource {
  readonly mode = 'streaming';
  private socket?: WebSocket;
  private unstored = 0;

  constructor(
    private readonly definition: WebSocketSourceDefinition,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  connect(sink: ItemSink, lost: (error: Error) => void): Promise<void> {
    const headers = { ...this.definition.headers };
    for (const [name, variable] of Object.entries(this.definition.headersEnv)) headers[name] = this.env[variable] ?? '';
    const socket = new WebSocket(this.definition.url, { headers, handshakeTimeout: 10_000, maxPayload: 16 * 1_048_576 });
    this.socket = socket;
    // at most max_pending messages wait, plus the batch being stored (no larger than max_pending)
    const waiting: Array<string | undefined> = [];
    let draining = false;
    // one batch at a time, in arrival order
    const drain = async () => {
      if (draining) return;
      draining = true;
      try {
        // what the feed sent before it closed is still stored
        while (waiting.length > 0) {
          const batch = waiting.splice(0, Math.min(STORE_BATCH, this.definition.maxPending));
          await this.handle(batch, sink);
          this.unstored -= batch.length;
          if (socket.isPaused && waiting.length <= this.definition.maxPending / 2) socket.resume();
        }
      } catch {
        waiting.length = 0;
        this.unstored = 0;
        socket.terminate();
      } finally {
        draining = false;
      }
    };
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
        waiting.push(isBinary ? undefined : data.toString('utf8'));
        this.unstored++;
        if (waiting.length >= this.definition.maxPending && !socket.isPaused) socket.pause();
        void drain();
      });
    });
  }

  waiting(): number {
    return this.unstored;
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
  }

  /** Sets aside what is not an item, and stores the rest in one call; throws when they cannot be stored. */
  private async handle(texts: Array<string | undefined>, sink: ItemSink): Promise<void> {
    const items: unknown[] = [];
    for (const text of texts) {
      if (text === undefined) {
        await sink.setAside('(binary message)', 'binary messages are not items');
        continue;
      }
      try {
        items.push(JSON.parse(text));
      } catch {
        await sink.setAside(text.slice(0, 4_096), 'the message is not JSON');
      }
    }
    if (items.length > 0) await sink.store(items);
  }
}
