import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** `HTTP/1.1 400 Bad Request` */
  readonly statusLine: string;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Splits an HTTP answer as it came off the wire. */
export function parseAnswer(text: string): RawAnswer {
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = (split === -1 ? text : text.slice(0, split)).split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { statusLine, headers, body: split === -1 ? '' : text.slice(split + 4) };
}

/** Writes `request` as it is on a new TCP connection and resolves with all that came back before the server closed it. */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // the server may reset once it answered; what it sent before counts
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1')));
    });
  });
}

/**
 * Completes a WebSocket handshake by hand and returns the TCP socket, paused
 * right after the `101` head: whatever the server sends from then on stays
 * unread until the caller resumes it, as with a peer that never reads.
 */
export function rawWebSocket(port: number, headers: Record<string, string>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const lines = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /ws/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${lines}\r\n`,
      ),
    );
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`handshake refused: ${head}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** A client-to-server ping frame (masked, as a client must send it) carrying `payload` (at most 125 bytes). */
export function pingFrame(payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x89, 0x80 | payload.length]), mask, masked]);
}
