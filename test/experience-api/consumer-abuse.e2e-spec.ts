import { once } from 'node:events';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { DataSource } from 'typeorm';
import { eventually } from '../support/time/eventually.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { MailCatcher } from '../support/mail/mail-catcher.js';
import { pingFrame, rawWebSocket } from '../support/net/raw-socket.js';
import { consumerHeaders, TestSocket } from '../support/net/ws-client.js';

/** Writes pings as fast as the connection takes them until the server drops it; resolves with the bytes written. */
function floodWithPings(socket: Socket): Promise<number> {
  const ping = pingFrame(Buffer.alloc(125, 0x70));
  const burst = Buffer.concat(Array.from({ length: 512 }, () => ping));
  return new Promise((resolve) => {
    let written = 0;
    let open = true;
    socket.on('error', () => undefined);
    socket.once('close', () => {
      open = false;
      resolve(written);
    });
    const pump = () => {
      while (open && !socket.destroyed) {
        written += burst.length;
        if (!socket.write(burst)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('consumers that abuse the socket', () => {
  let smtp: MailCatcher;
  let api: RunningExperienceApi;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    smtp = await MailCatcher.start();
    api = await startExperienceApi({
      SMTP_URL: smtp.url(),
      ALERT_EMAIL_TO: 'oncall@example.test',
      ALERT_FOLD_WINDOW: '5m',
      WS_PING_INTERVAL: '200ms',
      WS_MAX_PINGS_PER_SECOND: '10',
    });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.socket.terminate();
  });
  afterAll(async () => {
    await api.close();
    await smtp.stop();
  });

  const port = () => Number(new URL(api.httpUrl).port);

  async function connect(options: { autoPong?: boolean } = {}): Promise<{ socket: TestSocket; clientId: string; socketId: string }> {
    const consumer = await createConsumer(api);
    const socket = await TestSocket.open(`${api.wsUrl}/ws/publish`, { headers: consumerHeaders(consumer.clientId, consumer.token), ...options });
    sockets.push(socket);
    const welcome = await socket.next<{ socket_id: string }>();
    return { socket, clientId: consumer.clientId, socketId: welcome.socket_id };
  }

  async function mailAbout(subject: string) {
    await eventually(() => smtp.mails.some((mail) => mail.subject === subject), 10_000);
    return smtp.mails.find((mail) => mail.subject === subject)!;
  }

  async function violations(): Promise<number> {
    const metrics = await api.http.get('/metrics').expect(200);
    return Number(/^push_gateway_consumer_violations_total (\d+)/m.exec(metrics.text)?.[1]);
  }

  /** The healthy consumer still gets what is published, and the heartbeat's pings. */
  async function stillServed(healthy: TestSocket): Promise<void> {
    const pinged = once(healthy.socket, 'ping');
    const published = await api.http.post('/entity').send({ data: 'still served' }).expect(202);
    expect((await healthy.next()).id).toBe(published.body.id);
    await pinged;
  }

  it('answers a frame over the inbound limit with the error frame, 1009, the metric and an alert naming the client', async () => {
    const healthy = await connect();
    const big = await connect();
    const before = await violations();

    big.socket.socket.send('x'.repeat(10 * 1024));

    expect(await big.socket.next()).toEqual({
      type: 'error',
      code: 'message_too_large',
      message: 'a message over the size limit; consumers may not send messages on /ws/publish',
    });
    expect(await big.socket.closed).toEqual({ code: 1009, reason: 'message too big' });
    expect(await violations()).toBe(before + 1);
    const mail = await mailAbout('[experience-api] consumers sent messages on /ws/publish');
    expect(mail.text).toContain(`client_id: ${big.clientId}`);
    expect(mail.text).toContain(`socket_id: ${big.socketId}`);
    expect(mail.text).toContain('reason: message_too_large');
    const liveRows = () => api.app.get(DataSource).query<unknown[]>('SELECT 1 FROM live_sockets WHERE client_id = $1', [big.clientId]);
    await eventually(async () => (await liveRows()).length === 0, 5_000);
    await stillServed(healthy.socket);
  });

  it('drops a consumer that floods pings without reading, within bounded memory, and alerts', async () => {
    const healthy = await connect();
    const consumer = await createConsumer(api);
    const attacker = await rawWebSocket(port(), consumerHeaders(consumer.clientId, consumer.token));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;

    const written = await floodWithPings(attacker);

    // the kernel buffers on both sides take a few MB before the drop reaches the attacker; the server keeps none of it
    expect(written).toBeLessThan(16 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    const mail = await mailAbout('[experience-api] consumers flooded /ws/publish with pings');
    expect(mail.text).toContain(`client_id: ${consumer.clientId}`);
    expect(mail.text).toContain('reason: too_many_pings');
    await stillServed(healthy.socket);
  });

  it('answers the pings of a consumer that pings within its allowance, echoing each payload', async () => {
    const { socket } = await connect();
    const pongs: string[] = [];
    socket.socket.on('pong', (data) => pongs.push(String(data)));

    for (const payload of ['one', 'two', 'three']) socket.socket.ping(payload);

    await eventually(() => pongs.length === 3, 5_000);
    expect(pongs).toEqual(['one', 'two', 'three']);
    expect(socket.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('terminates a consumer whose pongs do not answer the heartbeat, however many it sends', async () => {
    const healthy = await connect();
    const dead = await connect({ autoPong: false });
    // a pong on every ping, but never the ping's own payload
    dead.socket.socket.on('ping', () => dead.socket.socket.pong());

    await eventually(() => dead.socket.socket.readyState === WebSocket.CLOSED, 10_000);

    expect((await dead.socket.closed).code).toBe(1006);
    expect(healthy.socket.socket.readyState).toBe(WebSocket.OPEN);
    await stillServed(healthy.socket);
  });

  it('raised no alert about an internal error', () => {
    expect(smtp.mails.map((mail) => mail.subject)).not.toContainEqual(expect.stringContaining('internal error'));
  });
});
