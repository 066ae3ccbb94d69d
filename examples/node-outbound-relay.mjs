// An outbound relay end to end: starts a tiny price feed (a WebSocket server), asks the gateway to
// connect to it and relay what it sends to the group "prices", and prints what a consumer of that
// group receives. After five entities it deletes the outbound socket and stops.
//   ADMIN_TOKEN=… node examples/node-outbound-relay.mjs     (GATEWAY: default http://127.0.0.1:3000; FEED_PORT: 4000)
import WebSocket, { WebSocketServer } from 'ws';

const { ADMIN_TOKEN: adminToken, GATEWAY: gateway = 'http://127.0.0.1:3000', FEED_PORT: feedPort = '4000' } = process.env;
if (!adminToken) {
  console.error('set ADMIN_TOKEN (npm start prints the one it made up)');
  process.exit(2);
}
const call = async (method, path, body, headers = {}) => {
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json', ...headers },
    body: body && JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text && JSON.parse(text);
};

// 1. the feed: a tick a second to whoever connects (the gateway)
const feed = new WebSocketServer({ port: Number(feedPort), host: '127.0.0.1' });
feed.on('connection', (socket, request) => {
  console.log(`feed: gateway connected (${request.headers.authorization})`);
  const timer = setInterval(() => socket.send(JSON.stringify({ symbol: 'ACME', price: +(100 + Math.random()).toFixed(2) })), 1_000);
  socket.on('close', (code, reason) => (clearInterval(timer), console.log(`feed: gateway closed (${code} ${reason})`)));
});

// 2. a consumer of "prices"
const clientId = `relay-demo-${Date.now().toString(36)}`;
const { client_secret } = await call('POST', '/admin/clients', { client_id: clientId, groups: ['prices'] });
const { token } = await call('POST', '/consumers', undefined, { client_id: clientId, client_secret });
const consumer = new WebSocket(`${gateway.replace(/^http/, 'ws')}/ws/publish`, { headers: { client_id: clientId, Authorization: `Bearer ${token}` } });
let entities = 0;
consumer.on('message', async (data) => {
  const frame = JSON.parse(data);
  console.log(`consumer: ${frame.type}${frame.type === 'entity' ? ` #${frame.seq} ${JSON.stringify(frame.data)} (id ${frame.id})` : ''}`);
  if (frame.type !== 'entity' || ++entities < 5) return;
  await call('DELETE', `/admin/outbound-sockets/${socketId}`);
  await call('DELETE', `/admin/clients/${clientId}`);
  feed.close();
});

consumer.on('close', () => process.exit(0));
await new Promise((resolve, reject) => consumer.once('open', resolve).once('error', reject));

// 3. the outbound socket: the gateway connects to the feed and relays to "prices"
const { socket_id: socketId } = await call('POST', '/admin/outbound-sockets', {
  url: `ws://127.0.0.1:${feedPort}/prices`,
  headers: { Authorization: 'Bearer feed-token' },
  relay_to_groups: ['prices'],
});
console.log(`gateway: outbound socket ${socketId}`);
