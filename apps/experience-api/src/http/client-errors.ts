import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ApiErrorBody, errorCode } from './api-error.js';

/** What Node's HTTP parser refused, by its error code, and what the client is told; anything else is a 400. */
const ANSWERS: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive'],
};

function response(status: number, message: string): Buffer {
  const body = JSON.stringify({ error: errorCode(status), message } satisfies ApiErrorBody);
  return Buffer.from(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'latin1',
  );
}

const answers = new Map(Object.entries(ANSWERS).map(([code, [status, message]]) => [code, response(status, message)]));
const badRequest = response(400, 'malformed HTTP request');

/**
 * Answers the requests Node's HTTP parser refuses before any route sees them
 * (a malformed request, headers too large) with the `{error, message}` body
 * every other refusal has, instead of Node's empty one. As Node does, only a
 * connection nothing was written to yet gets an answer; a reset peer is just
 * let go.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex & { bytesWritten?: number }) => {
    if (error.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten) {
      socket.destroy();
      return;
    }
    socket.once('finish', () => socket.destroy());
    socket.end(answers.get(error.code ?? '') ?? badRequest);
  });
}
