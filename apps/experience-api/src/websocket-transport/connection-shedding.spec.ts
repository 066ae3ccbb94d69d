import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { AddressList, ManualClock } from '@app/platform';
import type { ExperienceConfig } from '../config/experience.config.js';
import { ConnectionShedding } from './connection-shedding.js';
import type { HandshakeRefusals } from './handshake-refusals.js';

/** A connection from `localAddress`, with the first line it was answered, once it is. */
interface Attempt {
  /** The first line answered so far; undefined while the connection waits. */
  readonly line: () => string | undefined;
  readonly answered: Promise<string>;
}

describe(ConnectionShedding.name, () => {
  const SHED = '127.0.0.3';
  let server: Server;
  let port: number;
  let clock: ManualClock;
  let sut: ConnectionShedding;
  let shed: number;
  const accepted = new Set<Socket>();
  const clients = new Set<Socket>();

  function attempt(localAddress: string): Attempt {
    let line: string | undefined;
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    clients.add(socket);
    socket.on('error', () => undefined);
    const answered = new Promise<string>((resolve) =>
      socket.once('data', (chunk) => {
        line = chunk.toString('latin1').split('\r\n')[0];
        resolve(line);
      }),
    );
    return { line: () => line, answered };
  }

  /**
   * Resolves once the server has answered a connection from an address that
   * is not shed: a full round trip through its event loop, by which time an
   * answer written before it would have arrived too.
   */
  async function roundTrip(): Promise<void> {
    expect(await attempt('127.0.0.9').answered).toBe('served');
  }

  async function untilShed(count: number): Promise<void> {
    while (shed < count) await new Promise((resolve) => setImmediate(resolve));
  }

  beforeEach(async () => {
    shed = 0;
    clock = new ManualClock();
    const config = { entityAllowedCidrs: AddressList.parse('127.0.0.1/32'), trustProxy: AddressList.parse('127.0.0.5/32') } as unknown as ExperienceConfig;
    const refusals = { shed: () => shed++ } as unknown as HandshakeRefusals;
    sut = new ConnectionShedding(config, refusals, clock);
    server = createServer((socket) => socket.end('served\r\n'));
    sut.install(server, false);
    server.on('connection', (socket: Socket) => accepted.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    sut.beforeApplicationShutdown();
    for (const socket of [...accepted, ...clients]) socket.destroy();
    accepted.clear();
    clients.clear();
    await new Promise((resolve) => server.close(resolve));
  });

  it('leaves the server to answer every address that is not shed', async () => {
    sut.shed(SHED, 10_000);

    expect(await attempt('127.0.0.4').answered).toBe('served');
  });

  it('stops shedding an address once its time is up', async () => {
    sut.shed(SHED, 50);
    await clock.advance(50);

    expect(await attempt(SHED).answered).toBe('served');
    expect(shed).toBe(0);
  });

  it('never sheds an address allowed to publish', async () => {
    sut.shed('127.0.0.1', 10_000);

    expect(await attempt('127.0.0.1').answered).toBe('served');
  });

  it('never sheds a trusted proxy, which carries everybody', async () => {
    sut.shed('127.0.0.5', 10_000);

    expect(await attempt('127.0.0.5').answered).toBe('served');
  });

  it('answers a shed connection 429 after its second, and not before', async () => {
    sut.shed(SHED, 10_000);
    const held = attempt(SHED);
    await untilShed(1);

    await clock.advance(999);
    await roundTrip();
    expect(held.line()).toBeUndefined();

    // the second and at most half a second of jitter
    await clock.advance(501);
    expect(await held.answered).toBe('HTTP/1.1 429 Too Many Requests');
  });

  it('answers every held connection at once when the app shuts down', async () => {
    sut.shed(SHED, 10_000);
    const held = attempt(SHED);
    await untilShed(1);

    sut.beforeApplicationShutdown();

    expect(await held.answered).toBe('HTTP/1.1 429 Too Many Requests');
  });

  it('holds at most 1,024 shed connections; the ones beyond are answered 429 at once', async () => {
    sut.shed(SHED, 10_000);
    const attempts: Attempt[] = [];
    // in steps of 100, each accepted before the next: more at once would overflow the listen backlog
    while (attempts.length < 1_100) {
      for (let i = 0; i < 100; i++) attempts.push(attempt(SHED));
      await untilShed(attempts.length);
    }
    const answeredSoFar = () => attempts.filter((held) => held.line() !== undefined).length;
    // the 76 beyond the limit are answered as they come, the clock standing still; the rest wait for it
    while (answeredSoFar() < 76) await roundTrip();
    await roundTrip();
    expect(answeredSoFar()).toBe(76);

    await clock.advance(1_500);
    const answers = await Promise.all(attempts.map((held) => held.answered));
    expect(answers.every((line) => line === 'HTTP/1.1 429 Too Many Requests')).toBe(true);
    expect(shed).toBe(1_100);
  });
});
