import { DataSource } from 'typeorm';
import { ADMIN_TOKEN, startExperienceApi, uniqueClientId, type RunningExperienceApi } from '../support/processes/experience-api.js';

describe('client management and consumer registration', () => {
  let api: RunningExperienceApi;
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(async () => {
    await api.close();
  });

  describe('POST /admin/clients', () => {
    it('creates a client with a generated secret that is stored only as a slow hash', async () => {
      const clientId = uniqueClientId();
      const created = await api.http.post('/admin/clients').set(admin).send({ client_id: clientId }).expect(201);
      expect(created.body).toEqual({ client_id: clientId, client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{32,}$/) });

      const [row] = await api.app.get(DataSource).query('SELECT secret_hash FROM clients WHERE client_id = $1', [clientId]);
      expect(row.secret_hash).toMatch(/^scrypt\$/);
      expect(row.secret_hash).not.toContain(created.body.client_secret);
    });

    it('accepts a chosen secret and default groups', async () => {
      const clientId = uniqueClientId();
      await api.http
        .post('/admin/clients')
        .set(admin)
        .send({ client_id: clientId, client_secret: 'a-chosen-secret-123', groups: ['eu', 'orders'] })
        .expect(201, { client_id: clientId, client_secret: 'a-chosen-secret-123' });
    });

    it('answers 409 for an id that exists', async () => {
      const clientId = uniqueClientId();
      await api.http.post('/admin/clients').set(admin).send({ client_id: clientId }).expect(201);
      const again = await api.http.post('/admin/clients').set(admin).send({ client_id: clientId }).expect(409);
      expect(again.body.error).toBe('conflict');
    });

    it.each([
      [{}, 'client_id'],
      [{ client_id: 'has space' }, 'client_id'],
      [{ client_id: 'x'.repeat(65) }, 'client_id'],
      [{ client_id: 'ok', client_secret: 'short' }, 'client_secret'],
      [{ client_id: 'ok', groups: 'eu' }, 'groups'],
      [{ client_id: 'ok', groups: ['bad group'] }, 'groups'],
      [{ client_id: 'ok', surprise: true }, 'surprise'],
    ])('answers 400 naming the field for %j', async (body, field) => {
      const answer = await api.http.post('/admin/clients').set(admin).send(body).expect(400);
      expect(answer.body.error).toBe('bad_request');
      expect(answer.body.message).toContain(field);
    });

    it('answers 401 without the admin token or with a wrong one', async () => {
      await api.http.post('/admin/clients').send({ client_id: uniqueClientId() }).expect(401);
      const wrong = await api.http.post('/admin/clients').set('Authorization', `Bearer ${ADMIN_TOKEN}x`).send({ client_id: uniqueClientId() }).expect(401);
      expect(wrong.body.error).toBe('unauthorized');
    });

    it('answers 404 when deleting a client that does not exist', async () => {
      const answer = await api.http.delete(`/admin/clients/${uniqueClientId()}`).set(admin).expect(404);
      expect(answer.body.error).toBe('not_found');
    });
  });

  describe('POST /consumers', () => {
    let clientId: string;
    const clientSecret = 'registration-secret-1';

    beforeAll(async () => {
      clientId = uniqueClientId();
      await api.http.post('/admin/clients').set(admin).send({ client_id: clientId, client_secret: clientSecret }).expect(201);
    });

    it('issues a 256-bit URL-safe Bearer token for client_id and client_secret headers', async () => {
      const before = Date.now();
      const answer = await api.http.post('/consumers').set('client_id', clientId).set('client_secret', clientSecret).expect(201);
      expect(answer.body).toEqual({
        client_id: clientId,
        token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        token_type: 'Bearer',
        expires_at: expect.any(String),
      });
      const expiresIn = Date.parse(answer.body.expires_at) - before;
      expect(expiresIn).toBeGreaterThan(29 * 86_400_000);
      expect(expiresIn).toBeLessThan(31 * 86_400_000);

      const rows = await api.app.get(DataSource).query('SELECT encode(token_hash, $2) AS hash FROM consumer_tokens WHERE client_id = $1', [clientId, 'escape']);
      expect(rows[0].hash).not.toContain(answer.body.token);
    });

    it('accepts HTTP Basic credentials', async () => {
      const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
      await api.http.post('/consumers').set('Authorization', `Basic ${basic}`).expect(201);
    });

    it('answers every kind of wrong credentials with the same 401', async () => {
      const answers = await Promise.all([
        api.http.post('/consumers'),
        api.http.post('/consumers').set('client_id', clientId),
        api.http.post('/consumers').set('client_id', clientId).set('client_secret', `${clientSecret}x`),
        api.http.post('/consumers').set('client_id', `${clientId}-unknown`).set('client_secret', clientSecret),
        api.http.post('/consumers').set('Authorization', 'Basic not-base64!'),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual({ error: 'unauthorized', message: 'invalid client credentials' });
      }
    });
  });

  describe('bodies that are wrong', () => {
    const post = () => api.http.post('/admin/clients').set(admin);

    it('answers malformed JSON with 400', async () => {
      const answer = await post().set('Content-Type', 'application/json').send('{"client_id": ').expect(400);
      expect(answer.body).toEqual({ error: 'bad_request', message: 'request body is not valid JSON' });
    });

    it.each([['[1, 2]'], ['"just a string"'], ['42']])('answers a JSON body that is not an object (%s) with 400', async (text) => {
      const answer = await post().set('Content-Type', 'application/json').send(text).expect(400);
      expect(answer.body.error).toBe('bad_request');
    });

    it('answers another content type with 415', async () => {
      const answer = await post().set('Content-Type', 'text/plain').send('client_id=acme').expect(415);
      expect(answer.body.error).toBe('unsupported_media_type');
    });

    it('answers a 10 MiB body with 413 and keeps serving', async () => {
      const huge = JSON.stringify({ client_id: 'x', padding: 'a'.repeat(10 * 1024 * 1024) });
      const answer = await post().set('Content-Type', 'application/json').send(huge).expect(413);
      expect(answer.body.error).toBe('payload_too_large');
      await api.http.get('/health').expect(200);
    });

    it('answers an unknown route with a JSON 404', async () => {
      const answer = await api.http.get('/nowhere').expect(404);
      expect(answer.body.error).toBe('not_found');
    });
  });
});

describe('admin API in production without ADMIN_TOKEN', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startExperienceApi({ NODE_ENV: 'production', ADMIN_TOKEN: '' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('does not exist: 404 even with a token', async () => {
    await api.http.post('/admin/clients').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send({ client_id: 'acme' }).expect(404);
  });
});
