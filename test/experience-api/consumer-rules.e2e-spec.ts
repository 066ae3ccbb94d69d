import { DataSource } from 'typeorm';
import { eventually } from '../support/time/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

describe('consumers only listen', () => {
  let api: RunningExperienceApi;
  let url: string;

  beforeAll(async () => {
    api = await startExperienceApi({ WS_PING_INTERVAL: '300ms' });
    url = `${api.wsUrl}/ws/publish`;
  });
  afterAll(async () => {
    await api.close();
  });

  const liveSocketRow = (clientId: string) => api.app.get(DataSource).query('SELECT socket_id FROM live_sockets WHERE client_id = $1', [clientId]);

  it('answers a data frame with an error frame, closes with 1008 and removes the socket id', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const welcome = await socket.next();
    expect(await liveSocketRow(consumer.clientId)).toEqual([{ socket_id: welcome.socket_id }]);

    socket.socket.send(JSON.stringify({ hello: 'server' }));

    expect(await socket.next()).toEqual({
      type: 'error',
      code: 'messages_not_allowed',
      message: 'consumers may not send messages on /ws/publish',
    });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'messages not allowed' });
    // the release was sent as the socket was closed; on a busy database it may land just after the close
    await eventually(async () => (await liveSocketRow(consumer.clientId)).length === 0, 5_000);

    // with its socket id gone, the client may connect again straight away
    const again = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect((await again.next()).type).toBe('welcome');
    await again.close();
  });

  it('closes a consumer that sends a 10 MiB frame with 1009 and keeps serving the others', async () => {
    const [big, bystander] = await Promise.all([createConsumer(api), createConsumer(api)]);
    const other = await TestSocket.open(url, { headers: consumerHeaders(bystander.clientId, bystander.token) });
    await other.next();
    const socket = await TestSocket.open(url, { headers: consumerHeaders(big.clientId, big.token) });
    await socket.next();

    socket.socket.send(Buffer.alloc(10 * 1024 * 1024, 0x61), { binary: false });

    expect((await socket.closed).code).toBe(1009);
    const published = await api.http.post('/entity').send({ data: 'after the flood' }).expect(202);
    expect((await other.next()).id).toBe(published.body.id);
    await other.close();
  });

  it('terminates a consumer that stops answering pings, and frees its client for a new connection', async () => {
    const consumer = await createConsumer(api);
    const silent = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token), autoPong: false });
    await silent.next();

    const { code } = await silent.closed;
    expect(code).toBe(1006);

    const again = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    expect((await again.next()).type).toBe('welcome');
    await again.close();
  });

  it('keeps a consumer that answers pings', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(url, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    let pings = 0;
    socket.socket.on('ping', () => pings++);
    await socket.next();
    // a silent consumer is gone by its second unanswered ping; this one answered three
    await eventually(() => pings >= 3, 5_000);

    const published = await api.http.post('/entity').send({ data: 'still connected' }).expect(202);
    expect((await socket.next()).id).toBe(published.body.id);
    await socket.close();
  });
});
