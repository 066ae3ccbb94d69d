import { WebSocket, type ClientOptions } from 'ws';

export interface Refusal {
  readonly status: number;
  readonly body: { error?: string; message?: string };
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A real `ws` client that queues every text frame it receives, for tests to take in order. */
export class TestSocket {
  private readonly frames: unknown[] = [];
  private waiter?: (frame: unknown) => void;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? data : JSON.parse(data.toString());
      if (this.waiter) {
        const waiter = this.waiter;
        this.waiter = undefined;
        waiter(frame);
      } else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket; rejects with a Refusal if the server answers the upgrade with an HTTP error. */
  static open(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<TestSocket> {
    const { protocols, ...clientOptions } = options;
    const socket = new WebSocket(url, protocols ?? [], clientOptions);
    const client = new TestSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: Refusal['body'];
          try {
            body = JSON.parse(text);
          } catch {
            body = { message: text };
          }
          reject(Object.assign(new Error(`refused with ${response.statusCode}`), { status: response.statusCode, body, headers: response.headers }));
        });
      });
      socket.once('error', reject);
    });
  }

  /** Opens a socket that must be refused; resolves with the refusal. */
  static async refusal(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<Refusal> {
    try {
      const socket = await TestSocket.open(url, options);
      socket.socket.terminate();
    } catch (error) {
      if ((error as Partial<Refusal>).status !== undefined) return error as Refusal;
      throw error;
    }
    throw new Error('the handshake was accepted');
  }

  /** The next frame, waiting up to `timeoutMs` for it. */
  next<T = Record<string, unknown>>(timeoutMs = 5_000): Promise<T> {
    if (this.frames.length > 0) return Promise.resolve(this.frames.shift() as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame as T);
      };
    });
  }

  /** Frames received so far and not yet taken. */
  get pending(): number {
    return this.frames.length;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}

/** Headers a Java or Postman consumer sends. */
export function consumerHeaders(clientId: string, token: string): Record<string, string> {
  return { client_id: clientId, Authorization: `Bearer ${token}` };
}
