import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { AddressList } from '@app/platform';
import type { ExperienceConfig } from '../config/experience.config.js';
import { ConnectionShedding } from './connection-shedding.js';
import type { HandshakeRefusals } from './handshake-refusals.js';

/** What a connection from `localAddress` got: the first line answered, or 'waiting' if none came within `waitMs`. */
function firstAnswer(port: number, localAddress: string, waitMs: number): Promise<string> {
  return timedAnswer(port, localAddress, waitMs).then(({ line }) => line);
}

function timedAnswer(port: number, localAddress: string, waitMs: number): Promise<{ line: string; afterMs: number }> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ line: 'waiting', afterMs: waitMs });
    }, waitMs);
    socket.once('data', (chunk) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ line: chunk.toString('latin1').split('\r\n')[0], afterMs: performance.now() - startedAt });
    });
    socket.on('error', () => undefined);
  });
}

describe(ConnectionShedding.name, () => {
  let server: Server;
  let port: number;
  let sut: ConnectionShedding;
  let shed: number;
  const accepted = new Set<Socket>();

  beforeEach(async () => {
    shed = 0;
    const config = { entityAllowedCidrs: AddressList.parse('127.0.0.1/32'), trustProxy: AddressList.parse('127.0.0.5/32') } as unknown as ExperienceConfig;
    const refusals = { shed: () => shed++ } as unknown as HandshakeRefusals;
    sut = new ConnectionShedding(config, refusals);
    server = createServer((socket) => socket.end('served\r\n'));
    sut.install(server, false);
    server.on('connection', (socket: Socket) => accepted.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const socket of accepted) socket.destroy();
    accepted.clear();
    await new Promise((resolve) => server.close(resolve));
  });

  it('leaves the server to answer every address that is not shed', async () => {
    sut.shed('127.0.0.3', 10_000);
    expect(await firstAnswer(port, '127.0.0.4', 2_000)).toBe('served');
  });

  it('stops shedding an address once its time is up', async () => {
    sut.shed('127.0.0.3', 50);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await firstAnswer(port, '127.0.0.3', 2_000)).toBe('served');
    expect(shed).toBe(0);
  });

  it('never sheds an address allowed to publish', async () => {
    sut.shed('127.0.0.1', 10_000);
    expect(await firstAnswer(port, '127.0.0.1', 2_000)).toBe('served');
  });

  it('answers a shed connection 429 a second later', async () => {
    sut.shed('127.0.0.3', 10_000);
    const answer = await timedAnswer(port, '127.0.0.3', 3_000);
    expect(answer.line).toBe('HTTP/1.1 429 Too Many Requests');
    expect(answer.afterMs).toBeGreaterThanOrEqual(950);
  });

  it('never sheds a trusted proxy, which carries everybody', async () => {
    sut.shed('127.0.0.5', 10_000);
    expect(await firstAnswer(port, '127.0.0.5', 2_000)).toBe('served');
  });

  it('answers every held connection at once when the app shuts down', async () => {
    sut.shed('127.0.0.3', 10_000);
    const answer = timedAnswer(port, '127.0.0.3', 3_000);
    while (shed < 1) await new Promise((resolve) => setTimeout(resolve, 5));

    sut.beforeApplicationShutdown();

    expect((await answer).line).toBe('HTTP/1.1 429 Too Many Requests');
    expect((await answer).afterMs).toBeLessThan(900);
  });

  it('holds at most 1,024 shed connections; the ones beyond are answered 429 at once', async () => {
    sut.shed('127.0.0.3', 10_000);
    const pending: Array<Promise<{ line: string; afterMs: number }>> = [];
    // in steps of 100, each accepted before the next: more at once would overflow the listen backlog
    while (pending.length < 1_100) {
      for (let i = 0; i < 100; i++) pending.push(timedAnswer(port, '127.0.0.3', 3_000));
      while (shed < pending.length) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const answers = await Promise.all(pending);

    expect(answers.every((answer) => answer.line === 'HTTP/1.1 429 Too Many Requests')).toBe(true);
    const first = answers.slice(0, 1_024);
    const beyond = answers.slice(1_024);
    // held ones wait out their second from when they were shed; the rest are answered as they come
    expect(Math.min(...first.map((answer) => answer.afterMs))).toBeGreaterThanOrEqual(950);
    expect(Math.max(...beyond.map((answer) => answer.afterMs))).toBeLessThan(950);
    expect(shed).toBe(1_100);
  });
});
