// A consumer that misses nothing, built on the client SDK (packages/client): connects to the gateway with its client
// id and token, prints every frame it receives (one JSON document a line), and when the connection drops reconnects
// with backoff, saying where it stopped (last_seq and epoch), so that the gateway replays what it missed.
//   CLIENT_ID=acme TOKEN=… node examples/node-consumer.mjs       (GATEWAY: default http://127.0.0.1:3000)
// The SDK is built by `npm run build` (or `npm start`); on its own: npm run build -w @push-gateway/client
import { connect } from '@push-gateway/client';

const { CLIENT_ID: clientId, TOKEN: token, GATEWAY: gateway = 'http://127.0.0.1:3000' } = process.env;
if (!clientId || !token) {
  console.error('set CLIENT_ID and TOKEN (the token POST /consumers answered)');
  process.exit(2);
}

// The SDK remembers where this consumer stopped (connection.lastSeq, connection.epoch) and sends it when it
// reconnects. A real consumer keeps these with the data it stored, and passes them to connect() after a restart.
const connection = connect({
  url: gateway,
  clientId,
  token,
  onFrame: (_frame, text) => console.log(`${clientId}: ${text}`),
  onEntity: () => {},
  onWelcome: (welcome) => {
    if (welcome.recovered === true) console.error(`${clientId}: recovered; missed: ${welcome.missed}, replayed next`);
    if (welcome.recovered === false) console.error(`${clientId}: not recovered (${welcome.reason}); resynchronise, then go on from seq ${welcome.last_seq}`);
  },
  onError: (error) => console.error(`${clientId}: ${error.message}`),
  onClose: ({ code }) => console.error(`${clientId}: closed (${code})`),
  // 1012: at once; 1006, 1013, 409, 429, 503…: 1 s doubling to 30 s, with full jitter
  reconnect: { initialDelayMs: 1_000, maxDelayMs: 30_000, jitter: true },
});

// The SDK stops by itself only when retrying cannot help: 1000 (an operator closed it), 1008 or 1009 (deleted, or a
// rule broken), a refusal that needs fixing (400, 401 without a secret to register with, 403)
const stopped = await connection.done;
process.exit(stopped.code === 1000 ? 0 : 1);
