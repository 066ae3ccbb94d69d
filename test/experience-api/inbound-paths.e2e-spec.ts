import { EventEmitter2 } from '@nestjs/event-emitter';
import { SocketEvent, type SocketMessageEvent } from '../../apps/experience-api/src/socket-events/socket-events.js';
import { MailCatcher } from '../support/mail/mail-catcher.js';
import { WebhookReceiver } from '../support/net/webhook-receiver.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { ADMIN_TOKEN, createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { eventually } from '../support/time/eventually.js';

// INBOUND_PATHS: paths where consumers connect as on /ws/publish and may also send, within limits.

describe('an inbound path where consumers may send', () => {
  let api: RunningExperienceApi;
  let smtp: MailCatcher;
  let receiver: WebhookReceiver;
  const heard: SocketMessageEvent[] = [];

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    receiver = await WebhookReceiver.start();
    api = await startExperienceApi({
      INBOUND_PATHS: '/ws/chat',
      INBOUND_MAX_MESSAGE_BYTES: '1024',
      INBOUND_MESSAGES_PER_SECOND: '5',
      SMTP_URL: smtp.url(),
      ALERT_EMAIL_TO: 'oncall@example.test',
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: 'webhook-secret-0123456789',
      WEBHOOK_EVENTS: 'message',
    });
    api.app.get(EventEmitter2).on(SocketEvent.INBOUND_MESSAGE, (event: SocketMessageEvent) => heard.push(event));
  });
  afterAll(async () => {
    await api.close();
    await receiver.close();
    await smtp.stop();
  });

  async function chatter(groups?: string[]): Promise<{ clientId: string; socket: TestSocket; socketId: string }> {
    const consumer = await createConsumer(api, { groups });
    const socket = await TestSocket.open(`${api.wsUrl}/ws/chat`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const welcome = await socket.next();
    expect(welcome.type).toBe('welcome');
    return { clientId: consumer.clientId, socket, socketId: welcome.socket_id as string };
  }

  it('takes text and binary messages, each firing the inbound-message trigger and the message webhook', async () => {
    const { clientId, socket, socketId } = await chatter();

    socket.socket.send('{"say":"hello"}');
    socket.socket.send(Buffer.from([1, 2, 3]));

    await eventually(() => heard.filter((event) => event.socketId === socketId).length === 2);
    expect(heard.filter((event) => event.socketId === socketId)).toEqual([
      expect.objectContaining({ socketId, clientId, path: '/ws/chat', type: 'inbound', data: '{"say":"hello"}', binary: false }),
      expect.objectContaining({ socketId, clientId, path: '/ws/chat', binary: true, data: Buffer.from([1, 2, 3]) }),
    ]);
    await eventually(() => receiver.calls.filter((call) => call.json.data?.socket_id === socketId).length === 2);
    expect(receiver.calls.filter((call) => call.json.data?.socket_id === socketId).map((call) => [call.json.event, call.json.data.data])).toEqual([
      ['message', '{"say":"hello"}'],
      ['message', 'AQID'],
    ]);
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    await socket.close();
  });

  it('delivers the entities of its groups there too, and lists the socket under its path', async () => {
    const { socket, socketId } = await chatter(['rooms']);

    const published = await api.http
      .post('/entity')
      .send({ groups: ['rooms'], data: 'to the room' })
      .expect(202);

    expect(await socket.next()).toMatchObject({ type: 'entity', id: published.body.id, data: 'to the room' });
    const listed = await api.http
      .get('/admin/sockets?path=/ws/chat')
      .set({ Authorization: `Bearer ${ADMIN_TOKEN}` })
      .expect(200);
    expect(listed.body.sockets.map((listedSocket: { socket_id: string }) => listedSocket.socket_id)).toContain(socketId);
    await socket.close();
  });

  it('keeps one connection per client across paths: a second one on /ws/chat is refused with 409', async () => {
    const consumer = await createConsumer(api);
    const listening = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    await listening.next();

    const refused = await TestSocket.refusal(`${api.wsUrl}/ws/chat`, { headers: consumerHeaders(consumer.clientId, consumer.token) });

    expect(refused.status).toBe(409);
    await listening.close();
  });

  it('closes a consumer that sends more messages than allowed, after an error frame, and tells DevOps', async () => {
    const { socket } = await chatter();

    for (let i = 0; i < 20; i++) socket.socket.send(`message ${i}`);

    expect(await socket.next()).toEqual({ type: 'error', code: 'too_many_messages', message: 'more messages than /ws/chat takes' });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'too many messages' });
    await eventually(() => smtp.mails.some((mail) => mail.subject === '[experience-api] consumers flooded /ws/chat with messages'), 15_000);
  });

  it('closes a consumer that sends a message over the size limit with 1009', async () => {
    const { socket } = await chatter();

    socket.socket.send('x'.repeat(1025));

    expect(await socket.next()).toEqual({ type: 'error', code: 'message_too_large', message: 'a message over the size limit of /ws/chat' });
    expect((await socket.closed).code).toBe(1009);
  });

  it('still refuses messages on /ws/publish', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    await socket.next();

    socket.socket.send('hello?');

    expect(await socket.next()).toMatchObject({ type: 'error', code: 'messages_not_allowed' });
    expect((await socket.closed).code).toBe(1008);
  });
});
