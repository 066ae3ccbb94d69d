import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import type { Endpoint } from './raw-consumer.js';

export interface FloodSettings {
  readonly endpoint: Endpoint;
  readonly path: string;
  /** Bogus handshakes in flight at once. */
  readonly concurrency: number;
  /** Addresses the flood comes from: 1 is one attacker, which a per-address limit stops; many is a botnet, which it does not. */
  readonly sources: number;
  /** Real client ids, so that a third of the bogus tokens are well-formed and name a real client. */
  readonly knownClientIds: readonly string[];
}

export interface FloodReport {
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  /** Answers by HTTP status; 0 is a connection that ended without one. */
  readonly statuses: Record<string, number>;
}

/**
 * Bogus handshakes, as fast as this thread can make them, in three kinds
 * taken in turn: a malformed token, a well-formed random token for an unknown
 * client, and a well-formed random token for a real client. It runs on a
 * thread of its own so the load process's main thread, which times the
 * legitimate consumers, is not the one kept busy.
 */
function flood(settings: FloodSettings): void {
  const { endpoint, path, concurrency, sources, knownClientIds } = settings;
  // attackers live in 127.0.1.0/24 onwards, apart from the consumers' 127.0.0.10-249
  const sourceAddress = (n: number) => `127.0.${1 + Math.floor((n % sources) / 250)}.${1 + ((n % sources) % 250)}`;
  const target = endpoint.dialect === 'socketio' ? '/socket.io/?EIO=4&transport=websocket' : path;
  const statuses: Record<string, number> = {};
  let attempts = 0;
  let stopping = false;
  let inFlight = 0;
  const startedAt = performance.now();

  const one = (): void => {
    const kind = attempts % 3;
    attempts++;
    inFlight++;
    const token = kind === 0 ? 'not-a-token' : randomBytes(32).toString('base64url');
    const clientId = kind === 2 ? knownClientIds[attempts % knownClientIds.length] : `intruder-${attempts % 100_000}`;
    const socket = connect({ host: endpoint.host, port: endpoint.port, localAddress: sourceAddress(attempts), noDelay: true });
    let status = 0;
    socket.on('error', () => undefined);
    socket.once('data', (chunk: Buffer) => {
      status = Number(chunk.toString('latin1', 9, 12)) || 0;
      socket.destroy();
    });
    socket.once('close', () => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      inFlight--;
      if (!stopping) one();
      else if (inFlight === 0) finish();
    });
    socket.write(
      `GET ${target} HTTP/1.1\r\nHost: ${endpoint.host}:${endpoint.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        `client_id: ${clientId}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
  };

  const finish = (): void => {
    const elapsedMs = performance.now() - startedAt;
    const report: FloodReport = { attempts, elapsedMs, perSecond: (attempts / elapsedMs) * 1_000, statuses };
    parentPort?.postMessage(report);
  };

  parentPort?.on('message', () => {
    stopping = true;
    if (inFlight === 0) finish();
  });
  for (let i = 0; i < concurrency; i++) one();
}

flood(workerData as FloodSettings);
