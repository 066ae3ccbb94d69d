import { ADMIN_TOKEN, createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

describe('operators close sockets by id', () => {
  let api: RunningExperienceApi;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(async () => {
    await api.close();
  });

  async function connected(): Promise<{ socket: TestSocket; socketId: string }> {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token) });
    const welcome = await socket.next();
    return { socket, socketId: welcome.socket_id as string };
  }

  it('closes the socket with 1000 and says an operator closed it', async () => {
    const { socket, socketId } = await connected();

    await api.http.delete(`/admin/sockets/${socketId}`).set(admin).expect(204);

    expect(await socket.closed).toEqual({ code: 1000, reason: 'closed by an operator' });
  });

  it('closes with the code and reason the operator chose', async () => {
    const { socket, socketId } = await connected();

    await api.http.delete(`/admin/sockets/${socketId}`).set(admin).send({ code: 4000, reason: 'maintenance' }).expect(204);

    expect(await socket.closed).toEqual({ code: 4000, reason: 'maintenance' });
  });

  it('answers 404 for a socket no instance has', async () => {
    const answer = await api.http.delete('/admin/sockets/no-such-socket').set(admin).expect(404);

    expect(answer.body).toEqual({ error: 'not_found', message: 'no socket no-such-socket' });
  });

  it.each([
    ['1005, which no close frame may carry', { code: 1005 }, 'code must be'],
    ['2999, outside the codes an operator may use', { code: 2999 }, 'code must be'],
    ['a code given as a string', { code: '4000' }, 'code must be'],
    ['a reason of 121 characters', { reason: 'x'.repeat(121) }, 'reason must be'],
    ['a reason outside printable ASCII', { reason: 'fermé' }, 'reason must be'],
  ])('refuses %s with 400 and leaves the socket open', async (_, body, message) => {
    const { socket, socketId } = await connected();

    const answer = await api.http.delete(`/admin/sockets/${socketId}`).set(admin).send(body).expect(400);

    expect(answer.body).toEqual({ error: 'bad_request', message: expect.stringContaining(message) });
    await api.http.delete(`/admin/sockets/${socketId}`).set(admin).expect(204);
    expect((await socket.closed).code).toBe(1000);
  });

  it('is behind the admin token', async () => {
    const { socket, socketId } = await connected();

    await api.http.delete(`/admin/sockets/${socketId}`).expect(401);
    await api.http.delete(`/admin/sockets/${socketId}`).set({ Authorization: 'Bearer wrong-token-0123456789' }).expect(401);

    await api.http.delete(`/admin/sockets/${socketId}`).set(admin).expect(204);
    await socket.closed;
  });
});
