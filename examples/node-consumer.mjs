// A consumer that misses nothing: connects to the gateway with its client id and token, prints every frame
// it receives (one JSON document a line), and when the connection drops reconnects with backoff, saying
// where it stopped (last_seq and epoch headers), so that the gateway replays what it missed.
//   CLIENT_ID=acme TOKEN=… node examples/node-consumer.mjs       (GATEWAY: default http://127.0.0.1:3000)
import WebSocket from 'ws';

const { CLIENT_ID: clientId, TOKEN: token, GATEWAY: gateway = 'http://127.0.0.1:3000' } = process.env;
if (!clientId || !token) {
  console.error('set CLIENT_ID and TOKEN (the token POST /consumers answered)');
  process.exit(2);
}

// Where this consumer stopped: the highest seq received (or a welcome's last_seq when no replay follows), and
// the epoch it belongs to. A real consumer keeps these with the data it stored, to survive its own restarts.
let lastSeq;
let epoch;
let failures = 0;

function connect() {
  const headers = { client_id: clientId, Authorization: `Bearer ${token}` };
  if (lastSeq !== undefined) Object.assign(headers, { last_seq: String(lastSeq), epoch });
  const socket = new WebSocket(`${gateway.replace(/^http/, 'ws')}/ws/publish`, { headers });
  socket.on('message', (data) => {
    console.log(`${clientId}: ${data}`);
    const frame = JSON.parse(data);
    if (frame.type === 'entity') lastSeq = Math.max(lastSeq ?? 0, frame.seq);
    if (frame.type !== 'welcome') return;
    failures = 0;
    epoch = frame.epoch;
    if (frame.recovered === true) console.error(`${clientId}: recovered; missed: ${frame.missed}, replayed next`);
    if (frame.recovered === false) console.error(`${clientId}: not recovered (${frame.reason}); resynchronise, then go on from seq ${frame.last_seq}`);
    // recovered: true means the missed entities follow, and they bring lastSeq up to date
    if (frame.recovered !== true) lastSeq = Math.max(lastSeq ?? 0, frame.last_seq);
  });
  socket.on('unexpected-response', (_, response) => {
    console.error(`${clientId}: refused with ${response.statusCode}`);
    // 409 (the previous connection is not released yet), 429 and 503 pass; anything else needs fixing, not retrying
    if (![409, 429, 503].includes(response.statusCode)) process.exit(1);
    reconnect(socket, false);
  });
  socket.on('error', (error) => console.error(`${clientId}: ${error.message}`));
  socket.on('close', (code) => {
    console.error(`${clientId}: closed (${code})`);
    // 1000: an operator closed it; 1008, 1009: deleted, or a rule broken
    if ([1000, 1008, 1009].includes(code)) process.exit(code === 1000 ? 0 : 1);
    // 1012: the instance is stopping, another one takes over at once; anything else (1006, 1013…): back off
    reconnect(socket, code === 1012);
  });
}

const retried = new WeakSet();
function reconnect(socket, atOnce) {
  if (retried.has(socket)) return;
  retried.add(socket);
  const delay = atOnce ? 0 : Math.min(30_000, 1_000 * 2 ** failures++) * (0.5 + Math.random() / 2);
  setTimeout(connect, delay);
}

connect();
