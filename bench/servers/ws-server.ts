import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { DROP_CLOSE_CODE, DROP_CLOSE_REASON, handleDrop, handleStats, ReferenceContract } from './reference.js';

/**
 * The bare `ws` reference: the push contract with nothing around it. Tokens
 * are checked in the upgrade handler, before the handshake, and each entity is
 * serialised once and the same bytes sent to every socket.
 */
const contract = new ReferenceContract(process.env.BENCH_CONSUMERS_FILE ?? '');
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4_096 });

const server = createServer((request, response) => {
  const broadcast = (entity: object) => {
    const frame = Buffer.from(JSON.stringify(entity));
    for (const socket of wss.clients) socket.send(frame, { binary: false });
  };
  if (contract.handlePublish(request, response, broadcast) || handleStats(request, response, () => wss.clients.size)) return;
  const closeAll = () => {
    for (const socket of wss.clients) socket.close(DROP_CLOSE_CODE, DROP_CLOSE_REASON);
    return wss.clients.size;
  };
  if (handleDrop(request, response, closeAll)) return;
  response.writeHead(404).end();
});

server.on('upgrade', (request, socket, head) => {
  socket.on('error', () => socket.destroy());
  const clientId = request.url === '/ws/publish' ? contract.authenticate(request.headers) : undefined;
  if (clientId === undefined) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.on('error', () => undefined);
    ws.send(JSON.stringify(contract.welcome(randomUUID(), clientId)));
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ ready: true });
});
process.on('SIGTERM', () => process.exit(0));
