// A consumer in a dozen lines: connects to the gateway with its client id and token and prints
// every frame it receives, one JSON document a line. Reconnecting is left out for brevity.
//   CLIENT_ID=acme TOKEN=… node examples/node-consumer.mjs       (GATEWAY: default http://127.0.0.1:3000)
import WebSocket from 'ws';

const { CLIENT_ID: clientId, TOKEN: token, GATEWAY: gateway = 'http://127.0.0.1:3000' } = process.env;
if (!clientId || !token) {
  console.error('set CLIENT_ID and TOKEN (the token POST /consumers answered)');
  process.exit(2);
}

const socket = new WebSocket(`${gateway.replace(/^http/, 'ws')}/ws/publish`, {
  headers: { client_id: clientId, Authorization: `Bearer ${token}` },
});
socket.on('message', (data) => console.log(`${clientId}: ${data}`));
socket.on('unexpected-response', (_, response) => {
  console.error(`${clientId}: refused with ${response.statusCode}`);
  process.exit(1);
});
socket.on('close', (code) => {
  console.error(`${clientId}: closed (${code})`);
  process.exit(code === 1000 ? 0 : 1);
});
socket.on('error', (error) => {
  console.error(`${clientId}: ${error.message}`);
  process.exit(1);
});
