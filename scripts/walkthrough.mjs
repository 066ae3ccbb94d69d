// The commands `npm start` prints once both apps answer: the README's walkthrough ("A consumer
// from start to finish") word for word, so that a newcomer can paste them into a shell.

/**
 * The walkthrough's lines for a gateway at `gateway`. `adminTokenFile` is where development
 * keeps its admin token; undefined when ADMIN_TOKEN was set, and the shell must have it.
 */
export function walkthrough(gateway, adminTokenFile) {
  return [
    `export GATEWAY=${gateway}`,
    adminTokenFile ? `export ADMIN_TOKEN=$(cat ${adminTokenFile})` : '# ADMIN_TOKEN: the one you set for npm start; export ADMIN_TOKEN=… in this shell too',
    '# json FIELD: prints one field of the JSON answer on stdin, or the whole answer on stderr when it is not there',
    `json() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const v = JSON.parse(s || "{}")[process.argv[1]]; if (v === undefined) { console.error(s); process.exit(1); } console.log(v); })' "$1"; }`,
    '# 1. an operator creates the client "acme", granted the group "orders"; its secret is shown only this once',
    `export CLIENT_SECRET=$(curl -s -X POST $GATEWAY/admin/clients -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{"client_id": "acme", "groups": ["orders"]}' | json client_secret)`,
    '# 2. the consumer registers and gets its token (registering again rotates it)',
    `export TOKEN=$(curl -s -X POST $GATEWAY/consumers -H 'client_id: acme' -H "client_secret: $CLIENT_SECRET" | json token)`,
    '# 3. the consumer connects, in the background, and prints every frame it receives; then wait until its socket is live',
    'CLIENT_ID=acme node examples/node-consumer.mjs &',
    `until curl -s $GATEWAY/admin/clients/acme -H "Authorization: Bearer $ADMIN_TOKEN" | grep -q socket_id; do sleep 0.2; done`,
    '# 4. the back end publishes; the consumer prints it at once',
    `curl -s -w '\\n' -X POST $GATEWAY/entity -H 'Content-Type: application/json' -d '{"id": "order-1042", "groups": ["orders"], "data": {"order": 1042, "status": "shipped"}}'`,
    '# a second client, "globex", also granted "orders", with a consumer of its own',
    `export CLIENT_SECRET_2=$(curl -s -X POST $GATEWAY/admin/clients -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d '{"client_id": "globex", "groups": ["orders"]}' | json client_secret)`,
    `export TOKEN_2=$(curl -s -X POST $GATEWAY/consumers -H 'client_id: globex' -H "client_secret: $CLIENT_SECRET_2" | json token)`,
    'CLIENT_ID=globex TOKEN=$TOKEN_2 node examples/node-consumer.mjs &',
    `until curl -s $GATEWAY/admin/clients/globex -H "Authorization: Bearer $ADMIN_TOKEN" | grep -q socket_id; do sleep 0.2; done`,
    '# system-api forwards what lands in ./inbox: both consumers print it',
    `echo '{"order": 1043, "status": "packed"}' > inbox/order-1043.json`,
    '# stop the consumers with: kill %1 %2',
  ];
}
