import { ADMIN_TOKEN, createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

/** A consumer connected with the groups it asked for, and its socket id from the welcome. */
interface Connected {
  readonly clientId: string;
  readonly socket: TestSocket;
  readonly socketId: string;
}

describe('operators act on sockets', () => {
  let api: RunningExperienceApi;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(async () => {
    await api.close();
  });

  async function connected(options: { grants?: string[]; groups?: string[] } = {}): Promise<Connected> {
    const consumer = await createConsumer(api, { groups: options.grants });
    const headers = { ...consumerHeaders(consumer.clientId, consumer.token), ...(options.groups ? { groups: options.groups.join(',') } : {}) };
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers });
    const welcome = await socket.next();
    return { clientId: consumer.clientId, socket, socketId: welcome.socket_id as string };
  }

  /** Publishes an entity and returns its id. */
  async function publish(id: string, groups?: string[]): Promise<string> {
    await api.http
      .post('/entity')
      .send({ id, data: { id }, ...(groups ? { groups } : {}) })
      .expect(202);
    return id;
  }

  const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2, 10)}`;

  describe('listing', () => {
    it('shows a socket with everything operators see of it', async () => {
      const { clientId, socket, socketId } = await connected({ grants: ['eu'] });

      const answer = await api.http.get(`/admin/sockets/${socketId}`).set(admin).expect(200);

      expect(answer.body).toEqual({
        socket_id: socketId,
        type: 'inbound',
        path: '/ws/publish',
        client_id: clientId,
        groups: ['eu'],
        remote_address: expect.any(String),
        connected_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        messages_sent: 0,
        bytes_buffered: 0,
        state: 'open',
      });
      await socket.close();
    });

    it('counts what was sent to the socket', async () => {
      const { socket, socketId } = await connected();
      await publish(unique('counted'));
      await socket.next();

      const answer = await api.http.get(`/admin/sockets/${socketId}`).set(admin).expect(200);

      expect(answer.body.messages_sent).toBe(1);
      await socket.close();
    });

    it('answers 404 for a socket no instance has', async () => {
      expect((await api.http.get('/admin/sockets/no-such-socket').set(admin).expect(404)).body).toEqual({
        error: 'not_found',
        message: 'no socket no-such-socket',
      });
    });

    it('filters by client, group, type and path, and pages in socket id order', async () => {
      const group = unique('listed');
      const members = await Promise.all([connected({ grants: [group] }), connected({ grants: [group] }), connected({ grants: [group] })]);
      const other = await connected();
      const ids = members.map((member) => member.socketId).sort();
      const list = async (query: string) => (await api.http.get(`/admin/sockets?${query}`).set(admin).expect(200)).body;

      expect((await list(`group=${group}`)).sockets.map((socket: { socket_id: string }) => socket.socket_id)).toEqual(ids);
      expect((await list(`client_id=${other.clientId}`)).sockets.map((socket: { socket_id: string }) => socket.socket_id)).toEqual([other.socketId]);
      expect((await list(`group=${group}&type=outbound`)).sockets).toEqual([]);
      expect((await list(`group=${group}&type=inbound&path=/ws/publish`)).sockets).toHaveLength(3);
      expect((await list(`group=${group}&path=/ws/other`)).sockets).toEqual([]);
      const first = await list(`group=${group}&limit=2`);
      expect(first.sockets.map((socket: { socket_id: string }) => socket.socket_id)).toEqual(ids.slice(0, 2));
      expect(first.next).toBe(ids[1]);
      const second = await list(`group=${group}&limit=2&after=${first.next}`);
      expect(second).toEqual({ sockets: [expect.objectContaining({ socket_id: ids[2] })], next: null });

      await Promise.all([...members, other].map((member) => member.socket.close()));
    });

    it.each([
      ['type=sideways', 'type must be inbound or outbound'],
      ['limit=0', 'limit must be'],
      ['limit=501', 'limit must be'],
      ['group=a%20b', 'group must match'],
      ['client_id=a%20b', 'client_id must match'],
      ['path=ws', 'path must start with /'],
    ])('refuses the query %s with 400 naming the field', async (query, message) => {
      const answer = await api.http.get(`/admin/sockets?${query}`).set(admin).expect(400);
      expect(answer.body).toEqual({ error: 'bad_request', message: expect.stringContaining(message) });
    });
  });

  describe('sending', () => {
    it('sends a message frame with the data exactly as the operator wrote it', async () => {
      const { socket, socketId } = await connected();

      await api.http
        .post(`/admin/sockets/${socketId}/messages`)
        .set(admin)
        .set('Content-Type', 'application/json')
        .send('{"data": {"n": 12345678901234567890, "p": 1.50}}')
        .expect(202);

      expect(await socket.next()).toEqual({ type: 'message', data: { n: 12345678901234567890, p: 1.5 } });
      await socket.close();
    });

    it('answers 404 for a socket no instance has, and 400 without data', async () => {
      await api.http.post('/admin/sockets/no-such-socket/messages').set(admin).send({ data: 1 }).expect(404);
      const { socket, socketId } = await connected();
      const answer = await api.http.post(`/admin/sockets/${socketId}/messages`).set(admin).send({}).expect(400);
      expect(answer.body.message).toContain('data is required');
      await socket.close();
    });
  });

  describe('groups', () => {
    it('joins a granted group once, however often it is asked, so entities of it arrive once', async () => {
      const group = unique('joined');
      const { socket, socketId } = await connected({ grants: ['home', group], groups: ['home'] });

      for (let i = 0; i < 2; i++) {
        const answer = await api.http
          .post(`/admin/sockets/${socketId}/groups`)
          .set(admin)
          .send({ groups: [group] })
          .expect(200);
        expect(answer.body).toEqual({ groups: ['home', group] });
      }
      const entity = await publish(unique('to-group'), [group]);
      const marker = await publish(unique('marker'), ['home']);

      expect([(await socket.next()).id, (await socket.next()).id]).toEqual([entity, marker]);
      await socket.close();
    });

    it('refuses a group outside the client grants with 403 naming it, and leaves the socket as it was', async () => {
      const { socket, socketId } = await connected({ grants: ['home'] });

      const answer = await api.http
        .post(`/admin/sockets/${socketId}/groups`)
        .set(admin)
        .send({ groups: ['home', 'elsewhere'] })
        .expect(403);

      expect(answer.body).toEqual({ error: 'forbidden', message: expect.stringContaining('"elsewhere"') });
      expect((await api.http.get(`/admin/sockets/${socketId}`).set(admin)).body.groups).toEqual(['home']);
      await socket.close();
    });

    it('leaves a group, so its entities no longer arrive; leaving a group it is not in changes nothing', async () => {
      const group = unique('left');
      const { socket, socketId } = await connected({ grants: ['home', group], groups: ['home', group] });

      const answer = await api.http
        .delete(`/admin/sockets/${socketId}/groups`)
        .set(admin)
        .send({ groups: [group, 'never-joined'] })
        .expect(200);
      expect(answer.body).toEqual({ groups: ['home'] });
      await publish(unique('gone'), [group]);
      const marker = await publish(unique('marker'), ['home']);

      expect((await socket.next()).id).toBe(marker);
      await socket.close();
    });

    it('answers 404 for a socket no instance has, and 400 for a bad group', async () => {
      await api.http
        .post('/admin/sockets/no-such-socket/groups')
        .set(admin)
        .send({ groups: ['a'] })
        .expect(404);
      await api.http
        .delete('/admin/sockets/no-such-socket/groups')
        .set(admin)
        .send({ groups: ['a'] })
        .expect(404);
      const answer = await api.http
        .post('/admin/sockets/no-such-socket/groups')
        .set(admin)
        .send({ groups: ['a b'] })
        .expect(400);
      expect(answer.body.message).toContain('each of groups must match');
    });
  });

  describe('broadcast', () => {
    it('reaches the sockets of the selection and says how many', async () => {
      const group = unique('told');
      const members = await Promise.all([connected({ grants: [group] }), connected({ grants: [group] })]);
      const outsider = await connected();

      const answer = await api.http
        .post('/admin/broadcast')
        .set(admin)
        .send({ data: 'hello', groups: [group] })
        .expect(200);

      expect(answer.body).toEqual({ recipients: 2, failures: [] });
      for (const member of members) expect(await member.socket.next()).toEqual({ type: 'message', data: 'hello' });
      const marker = await publish(unique('marker'));
      expect((await outsider.socket.next()).id).toBe(marker);
      await Promise.all([...members, outsider].map((member) => member.socket.close()));
    });

    it('selects by client, and by type and path', async () => {
      const target = await connected();

      const byClient = await api.http.post('/admin/broadcast').set(admin).send({ data: 1, client_id: target.clientId }).expect(200);
      const byPath = await api.http.post('/admin/broadcast').set(admin).send({ data: 2, type: 'outbound', path: '/ws/publish' }).expect(200);

      expect(byClient.body).toEqual({ recipients: 1, failures: [] });
      expect(byPath.body).toEqual({ recipients: 0, failures: [] });
      expect(await target.socket.next()).toEqual({ type: 'message', data: 1 });
      await target.socket.close();
    });

    it('reports a socket that is closing as a failure, and still reaches the others', async () => {
      const group = unique('half-dead');
      const alive = await connected({ grants: [group] });
      const dying = await connected({ grants: [group] });
      // the peer stops reading, so the server's close stays unanswered and the socket stays closing
      (dying.socket.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      await api.http.delete(`/admin/sockets/${dying.socketId}`).set(admin).expect(204);

      const answer = await api.http
        .post('/admin/broadcast')
        .set(admin)
        .send({ data: 'still here?', groups: [group] })
        .expect(200);

      expect(answer.body).toEqual({ recipients: 1, failures: [{ socket_id: dying.socketId, reason: 'not_open' }] });
      expect(await alive.socket.next()).toEqual({ type: 'message', data: 'still here?' });
      dying.socket.socket.terminate();
      await alive.socket.close();
    });
  });

  describe('closing', () => {
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
      ['1012, which means the gateway restarts', { code: 1012 }, 'code must be'],
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

    it('closes every socket of a group with the code and reason chosen, and no other', async () => {
      const group = unique('closed');
      const members = await Promise.all([connected({ grants: [group] }), connected({ grants: [group] })]);
      const outsider = await connected();

      const answer = await api.http
        .post('/admin/sockets/close')
        .set(admin)
        .send({ groups: [group], code: 4001, reason: 'moving on' })
        .expect(200);

      expect(answer.body).toEqual({ closed: 2 });
      for (const member of members) expect(await member.socket.closed).toEqual({ code: 4001, reason: 'moving on' });
      const marker = await publish(unique('marker'));
      expect((await outsider.socket.next()).id).toBe(marker);
      await outsider.socket.close();
    });

    it('refuses a bulk close that names no criterion, rather than close every socket', async () => {
      const { socket } = await connected();

      const answer = await api.http.post('/admin/sockets/close').set(admin).send({ code: 4000 }).expect(400);

      expect(answer.body.message).toContain('name at least one of type, path, groups, client_id');
      const marker = await publish(unique('marker'));
      expect((await socket.next()).id).toBe(marker);
      await socket.close();
    });
  });

  it('keeps every socket route behind the admin token', async () => {
    const { socket, socketId } = await connected();
    const wrong = { Authorization: 'Bearer wrong-token-0123456789' };

    for (const headers of [{}, wrong]) {
      await api.http.get('/admin/sockets').set(headers).expect(401);
      await api.http.get(`/admin/sockets/${socketId}`).set(headers).expect(401);
      await api.http.post(`/admin/sockets/${socketId}/messages`).set(headers).send({ data: 1 }).expect(401);
      await api.http
        .post(`/admin/sockets/${socketId}/groups`)
        .set(headers)
        .send({ groups: ['a'] })
        .expect(401);
      await api.http
        .delete(`/admin/sockets/${socketId}/groups`)
        .set(headers)
        .send({ groups: ['a'] })
        .expect(401);
      await api.http.post('/admin/broadcast').set(headers).send({ data: 1 }).expect(401);
      await api.http.post('/admin/sockets/close').set(headers).send({ type: 'inbound' }).expect(401);
      await api.http.delete(`/admin/sockets/${socketId}`).set(headers).expect(401);
    }

    const marker = await publish(unique('marker'));
    expect((await socket.next()).id).toBe(marker);
    await socket.close();
  });
});
