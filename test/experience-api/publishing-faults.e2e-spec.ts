import { once } from 'node:events';
import { SocketRegistry } from '@app/socket-registry';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { MailCatcher } from '../support/mail/mail-catcher.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

describe('publishing when a delivery fails', () => {
  let smtp: MailCatcher;
  let api: RunningExperienceApi;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    api = await startExperienceApi({ SMTP_URL: smtp.url(), ALERT_EMAIL_TO: 'oncall@example.test', ALERT_FOLD_WINDOW: '5m', WS_PING_INTERVAL: '300ms' });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
  });
  afterAll(async () => {
    await api.close();
    await smtp.stop();
  });

  async function connect(groups: string[]): Promise<{ socket: TestSocket; socketId: string }> {
    const consumer = await createConsumer(api, { groups });
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    sockets.push(socket);
    return { socket, socketId: (await socket.next<{ socket_id: string }>()).socket_id };
  }

  /** Entity ids the socket receives from now on until it has `count` of them. */
  async function received(socket: TestSocket, count: number): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < count) ids.push((await socket.next<{ id: string }>()).id);
    return ids;
  }

  const publish = (body: object) => api.http.post('/entity').send(body);

  it('delivers the rest of a burst to every healthy consumer when one socket cannot be written, and keeps their pings going', async () => {
    const healthy = await connect(['orders']);
    const other = await connect(['orders']);
    const broken = await connect(['orders']);
    const transport = (api.app.get(SocketRegistry).get(broken.socketId)!.socket as unknown as { _socket: { write: () => never } })._socket;
    transport.write = () => {
      throw new Error('injected write failure');
    };
    const ids = Array.from({ length: 20 }, (_, i) => `burst-${process.pid}-${Date.now()}-${i}`);

    const answers = await Promise.all([
      ...ids.map((id) => publish({ id, groups: ['orders'], data: id })),
      publish({ id: `${ids[0]}-bad`, groups: ['not a group'], data: 'refused' }),
    ]);

    expect(answers.slice(0, ids.length).map((answer) => answer.status)).toEqual(ids.map(() => 202));
    expect(answers[ids.length].status).toBe(400);
    expect(answers[ids.length].body.error).toBe('bad_request');
    for (const consumer of [healthy, other]) {
      expect((await received(consumer.socket, ids.length)).sort()).toEqual([...ids].sort());
      await once(consumer.socket.socket, 'ping');
    }
    expect((await broken.socket.closed).code).toBe(1006);

    // the refused entity was never recorded: sent right, it is published, not answered as a duplicate
    const retried = await publish({ id: `${ids[0]}-bad`, groups: ['orders'], data: 'retried' }).expect(202);
    expect(retried.body.duplicate).toBeUndefined();
    expect(await received(healthy.socket, 1)).toEqual([`${ids[0]}-bad`]);
  });

  it('raised no alert about an internal error for any of it', async () => {
    // a known alert goes out after anything raised earlier; once it arrives, an earlier internal error would have too
    const talker = await connect([]);
    talker.socket.socket.send('hello?');
    await smtp.waitFor(1);
    expect(smtp.mails.map((mail) => mail.subject)).toEqual(['[experience-api] consumers sent messages on /ws/publish']);
  });

  it('takes back the record of an entity whose broadcast failed after recording, so the retry is delivered', async () => {
    const consumer = await connect(['orders']);
    const registry = api.app.get(SocketRegistry);
    const deliverAll = registry.deliverAll;
    registry.deliverAll = () => {
      registry.deliverAll = deliverAll;
      throw new Error('injected broadcast failure');
    };
    const id = `lost-${process.pid}-${Date.now()}`;

    await publish({ id, groups: ['orders'], data: 1 }).expect(500);
    const retried = await publish({ id, groups: ['orders'], data: 1 }).expect(202);

    expect(retried.body.duplicate).toBeUndefined();
    expect(await consumer.socket.next()).toMatchObject({ type: 'entity', id, seq: retried.body.seq });
    await publish({ id, groups: ['orders'], data: 1 }).expect(200, { id, seq: retried.body.seq, duplicate: true });
  });
});
