import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * What both reference servers share: the same push contract as the gateway,
 * minus everything that is not the push itself. Tokens are checked against
 * SHA-256 hashes held in memory (the gateway reads them from its database);
 * publishing assigns `seq` in memory (the gateway records each id).
 */
export class ReferenceContract {
  private readonly tokenHashes = new Map<string, Buffer>();
  private seq = 0;

  constructor(consumersFile: string) {
    for (const line of readFileSync(consumersFile, 'utf8').split('\n')) {
      if (line === '') continue;
      const [clientId, token] = line.split(' ');
      this.tokenHashes.set(clientId, createHash('sha256').update(token).digest());
    }
  }

  /** The client id whose token the handshake carries, or undefined. */
  authenticate(headers: IncomingHttpHeaders): string | undefined {
    const clientId = headers['client_id'];
    const token = headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (typeof clientId !== 'string' || token === undefined) return undefined;
    const expected = this.tokenHashes.get(clientId);
    if (!expected || !timingSafeEqual(createHash('sha256').update(token).digest(), expected)) return undefined;
    return clientId;
  }

  welcome(socketId: string, clientId: string): object {
    return { type: 'welcome', socket_id: socketId, client_id: clientId, groups: [] };
  }

  /**
   * Answers `POST /entity` the way the gateway does (202 `{id, seq}`), handing
   * `broadcast` the entity as the contract frames it; false for other routes.
   */
  handlePublish(request: IncomingMessage, response: ServerResponse, broadcast: (entity: object) => void): boolean {
    if (request.method !== 'POST' || request.url !== '/entity') return false;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: { id?: string; groups?: string[]; data?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad_request","message":"malformed JSON"}');
        return;
      }
      const seq = ++this.seq;
      const id = body.id ?? String(seq);
      broadcast({ type: 'entity', id, seq, groups: body.groups ?? [], data: body.data, published_at: new Date().toISOString() });
      response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, seq }));
    });
    return true;
  }
}

/** Answers `GET /stats` with the open socket count, which the orchestrator polls between runs. */
export function handleStats(request: IncomingMessage, response: ServerResponse, sockets: () => number): boolean {
  if (request.method !== 'GET' || request.url !== '/stats') return false;
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sockets: sockets() }));
  return true;
}

/**
 * The reconnect storm's drop: `POST /drop` closes every consumer's connection
 * with this code. The gateway keeps 1012 for its own shutdown (operators may
 * not send it), so the bench drops the gateway's consumers through its admin
 * API (`POST /admin/sockets/close`) with this code too: every server drops the
 * same way, and the consumers reconnect at once, with jitter, whatever the code.
 */
export const DROP_CLOSE_CODE = 4012;
export const DROP_CLOSE_REASON = 'server restarting';

/** Answers `POST /drop` by closing every consumer (`closeAll`) and saying how many. */
export function handleDrop(request: IncomingMessage, response: ServerResponse, closeAll: () => number): boolean {
  if (request.method !== 'POST' || request.url !== '/drop') return false;
  request.resume();
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ closed: closeAll() })));
  return true;
}
