import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { handleDrop, handleStats, ReferenceContract } from './reference.js';

/**
 * The Socket.IO reference, WebSocket transport only: tokens are checked in
 * `allowRequest`, before the upgrade, and each entity goes out with one
 * `io.emit`, which Socket.IO encodes once for all sockets.
 */
const contract = new ReferenceContract(process.env.BENCH_CONSUMERS_FILE ?? '');

const server = createServer((request, response) => {
  if (contract.handlePublish(request, response, (entity) => io.emit('entity', entity))) return;
  if (handleStats(request, response, () => io.engine.clientsCount)) return;
  // Socket.IO closes the underlying connection with a close frame of its own (it sets no code)
  const closeAll = () => {
    const count = io.engine.clientsCount;
    io.disconnectSockets(true);
    return count;
  };
  if (handleDrop(request, response, closeAll)) return;
  response.writeHead(404).end();
});

const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 4_096,
  allowRequest: (request, callback) => callback(null, contract.authenticate(request.headers) !== undefined),
});

io.on('connection', (socket) => {
  const clientId = String(socket.request.headers['client_id']);
  socket.emit('welcome', contract.welcome(randomUUID(), clientId));
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ ready: true });
});
process.on('SIGTERM', () => process.exit(0));
