import { LiveSocketWrites, type LiveSocketStatements } from './live-socket-writes.js';
import type { ClaimAnswers, ClaimRef, SocketRef } from './live-socket.repository.js';

/** Statements against an in-memory table of live sockets, with a log of what was written when. */
class MemoryStatements implements LiveSocketStatements {
  readonly rows = new Map<string, string>();
  readonly log: string[] = [];
  failing = false;
  /** Clients whose claim breaks the statement it is in, as a client deleted meanwhile would. */
  readonly poisoned = new Set<string>();
  /** Called as each claim statement is issued, before it is written. */
  onClaim?: () => void;

  async claimMany(claims: readonly ClaimRef[]): Promise<ClaimAnswers> {
    this.onClaim?.();
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing) throw new Error('database unavailable');
    if (claims.some((claim) => this.poisoned.has(claim.clientId))) throw new Error('violates foreign key constraint');
    this.log.push(`claim ${claims.map((claim) => claim.socketId).join(',')}`);
    const won = new Set<string>();
    for (const { clientId, socketId } of claims) {
      if (this.rows.has(clientId)) continue;
      this.rows.set(clientId, socketId);
      won.add(clientId);
    }
    return { won, credentials: new Map() };
  }

  async releaseMany(sockets: readonly SocketRef[]): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failing) throw new Error('database unavailable');
    this.log.push(`release ${sockets.map((socket) => socket.socketId).join(',')}`);
    for (const { clientId, socketId } of sockets) if (this.rows.get(clientId) === socketId) this.rows.delete(clientId);
  }
}

const isUnavailable = (error: unknown) => (error as Error).message === 'database unavailable';

describe(LiveSocketWrites.name, () => {
  it('writes the claims of one round of I/O in one statement', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);

    const won = await Promise.all(['a', 'b', 'c'].map((client) => sut.claim(client, `${client}-1`)));

    expect(won).toEqual([true, true, true]);
    expect(statements.log).toEqual(['claim a-1,b-1,c-1']);
  });

  it('under a burst, starts rounds at most every roundGapMs, so that the claims of those milliseconds share one statement', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable, 500, 40);
    let issued = 0;
    statements.onClaim = () => issued++;

    const first = sut.claim('a', 'a-1');
    while (issued === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = sut.claim('b', 'b-1');
    await new Promise((resolve) => setTimeout(resolve, 15));
    const third = sut.claim('c', 'c-1');

    expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
    expect(statements.log).toEqual(['claim a-1', 'claim b-1,c-1']);
  });

  it('lets only the first of two claims for one client in a round win', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);

    const won = await Promise.all([sut.claim('a', 'a-1'), sut.claim('a', 'a-2'), sut.claim('b', 'b-1')]);

    expect(won).toEqual([true, false, true]);
    expect(statements.rows.get('a')).toBe('a-1');
  });

  it('refuses a claim while another socket holds the client, and grants it after the release', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);
    expect(await sut.claim('a', 'a-1')).toBe(true);

    expect(await sut.claim('a', 'a-2')).toBe(false);
    const [, again] = await Promise.all([sut.release('a', 'a-1'), sut.claim('a', 'a-3')]);

    expect(again).toBe(true);
    expect(statements.log).toEqual(['claim a-1', 'claim a-2', 'release a-1', 'claim a-3']);
  });

  it('writes what arrives during a round in the next one, in order', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);

    const first = sut.claim('a', 'a-1');
    await new Promise((resolve) => setImmediate(resolve));
    const second = sut.claim('b', 'b-1');
    const third = sut.claim('c', 'c-1');

    expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
    expect(statements.log).toEqual(['claim a-1', 'claim b-1,c-1']);
  });

  it('splits a burst into statements of at most the batch size', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable, 2);

    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((client) => sut.claim(client, `${client}-1`)));

    expect(statements.log).toEqual(['claim a-1,b-1', 'claim c-1,d-1', 'claim e-1']);
  });

  it('fails every claim and release of a round the database refused, and carries on with the next', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);
    statements.failing = true;

    const outcomes = await Promise.allSettled([sut.claim('a', 'a-1'), sut.claim('a', 'a-2'), sut.release('b', 'b-1')]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    statements.failing = false;
    expect(await sut.claim('a', 'a-3')).toBe(true);
  });

  it('writes a failed round again one socket at a time, so one bad claim fails alone', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);
    statements.poisoned.add('gone');

    const outcomes = await Promise.allSettled([sut.claim('a', 'a-1'), sut.claim('gone', 'gone-1'), sut.claim('a', 'a-2'), sut.claim('b', 'b-1')]);

    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 'failed'))).toEqual([true, 'failed', false, true]);
    expect(statements.log).toEqual(['claim a-1', 'claim b-1']);
  });

  it('writes every release asked for before a round ahead of its claims, however many there are', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable, 2);
    await Promise.all(['a', 'b', 'c'].map((client) => sut.claim(client, `${client}-1`)));
    statements.log.length = 0;

    const released = ['a', 'b', 'c'].map((client) => sut.release(client, `${client}-1`));
    const reclaimed = ['a', 'b', 'c'].map((client) => sut.claim(client, `${client}-2`));

    expect(await Promise.all(reclaimed)).toEqual([true, true, true]);
    await Promise.all(released);
    expect(statements.log).toEqual(['release a-1,b-1', 'release c-1', 'claim a-2,b-2', 'claim c-2']);
  });

  it('settles once everything asked for before it has been written, without waiting for what comes after', async () => {
    const statements = new MemoryStatements();
    const sut = new LiveSocketWrites(statements, isUnavailable);

    void sut.claim('a', 'a-1');
    void sut.release('b', 'b-1');
    const settled = sut.settled();
    let later = 0;
    let streaming = true;
    // while each claim statement is out, a new claim arrives: an endless stream, as consumers reconnecting during shutdown would make
    statements.onClaim = () => {
      if (streaming) void sut.claim(`late-${later}`, `late-${later++}`);
    };
    await settled;
    streaming = false;
    expect(later).toBeGreaterThan(0);

    expect(statements.log.slice(0, 2)).toEqual(['release b-1', 'claim a-1']);
    await sut.settled();
  });
});
