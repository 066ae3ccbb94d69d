import { EventEmitter2 } from '@nestjs/event-emitter';
import { SocketEvent, type SocketEventName } from '../../apps/experience-api/src/socket-events/socket-events.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';
import { eventually } from '../support/time/eventually.js';

/** Code in the process subscribes to the triggers and sees what real consumers and publishers do. */
describe('triggers', () => {
  let api: RunningExperienceApi;
  let heard: Array<{ event: SocketEventName; payload: Record<string, unknown> }>;

  beforeAll(async () => {
    api = await startExperienceApi();
    const emitter = api.app.get(EventEmitter2);
    heard = [];
    for (const event of Object.values(SocketEvent)) emitter.on(event, (payload: Record<string, unknown>) => heard.push({ event, payload }));
    // a listener with a bug is the listener's problem, never the gateway's
    emitter.on(SocketEvent.CONNECTED, () => {
      throw new Error('a listener with a bug');
    });
  });
  afterAll(async () => {
    await api.close();
  });

  const of = (socketId: unknown) => heard.filter((e) => e.payload.socketId === socketId);

  it('fires connected, entity published and closed (with the code and reason) for a real consumer', async () => {
    const consumer = await createConsumer(api, { groups: ['eu', 'us'] });
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: { ...consumerHeaders(consumer.clientId, consumer.token), groups: 'eu' } });
    const welcome = await socket.next();

    await eventually(() => of(welcome.socket_id).length === 1, 5_000, 20, 'connected');
    expect(of(welcome.socket_id)[0]).toEqual({
      event: SocketEvent.CONNECTED,
      payload: {
        socketId: welcome.socket_id,
        type: 'inbound',
        path: '/ws/publish',
        clientId: consumer.clientId,
        remoteAddress: '127.0.0.1',
        groups: ['eu'],
        connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });

    const published = await api.http
      .post('/entity')
      .send({ groups: ['eu'], data: { n: 1 } })
      .expect(202);
    expect((await socket.next()).id).toBe(published.body.id);
    expect(heard.filter((e) => e.event === SocketEvent.ENTITY_PUBLISHED && e.payload.id === published.body.id)).toEqual([
      { event: SocketEvent.ENTITY_PUBLISHED, payload: { id: published.body.id, seq: published.body.seq, groups: ['eu'] } },
    ]);
    // a repeat is a duplicate, not a second publication
    await api.http
      .post('/entity')
      .send({ id: published.body.id, groups: ['eu'], data: { n: 1 } })
      .expect(200);

    socket.socket.close(4000, 'see you');
    await socket.closed;

    await eventually(() => of(welcome.socket_id).length === 2, 5_000, 20, 'closed');
    expect(of(welcome.socket_id)[1]).toEqual({
      event: SocketEvent.CLOSED,
      payload: {
        socketId: welcome.socket_id,
        type: 'inbound',
        path: '/ws/publish',
        clientId: consumer.clientId,
        remoteAddress: '127.0.0.1',
        code: 4000,
        reason: 'see you',
      },
    });
    expect(heard.filter((e) => e.event === SocketEvent.ENTITY_PUBLISHED && e.payload.id === published.body.id)).toHaveLength(1);
  });

  it('fires closed once, with the close it was sent, for a consumer closed for speaking', async () => {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const welcome = await socket.next();

    socket.socket.send('hello');

    expect(await socket.closed).toEqual({ code: 1008, reason: 'messages not allowed' });
    // the refused socket's own close comes after its trigger; a later connection's whole life comes after both
    const again = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const second = await again.next();
    await again.close();
    await eventually(() => of(second.socket_id).some((e) => e.event === SocketEvent.CLOSED), 5_000, 20, 'the second socket closed');
    expect(of(welcome.socket_id).filter((e) => e.event === SocketEvent.CLOSED)).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ code: 1008, reason: 'messages not allowed' }) }),
    ]);
  });
});
