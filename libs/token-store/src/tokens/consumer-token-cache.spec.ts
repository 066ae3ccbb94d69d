import { Grants } from '@app/platform';
import { type CachedCredentials, ConsumerTokenCache } from './consumer-token-cache.js';

describe(ConsumerTokenCache.name, () => {
  let clock: number;
  const now = () => clock;
  const credentials = (tag: string): CachedCredentials => ({ tokenHash: `hash-${tag}`, grants: new Grants([tag]), defaultGroups: [tag] });

  beforeEach(() => {
    clock = 1_000;
  });

  it('serves an entry until its TTL has passed, then forgets it', () => {
    const sut = new ConsumerTokenCache(10, 5_000, now);
    sut.set('acme', credentials('a'), 60_000, sut.epoch);

    clock += 4_999;
    expect(sut.get('acme')).toMatchObject(credentials('a'));

    clock += 1;
    expect(sut.get('acme')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('never serves a token past its own expiry, even inside the TTL', () => {
    const sut = new ConsumerTokenCache(10, 5_000, now);
    sut.set('acme', credentials('a'), 300, sut.epoch);

    clock += 299;
    expect(sut.get('acme')).toBeDefined();
    clock += 1;
    expect(sut.get('acme')).toBeUndefined();
  });

  it('keeps nothing for a token that has no time left', () => {
    const sut = new ConsumerTokenCache(10, 5_000, now);
    sut.set('acme', credentials('a'), 0, sut.epoch);

    expect(sut.get('acme')).toBeUndefined();
  });

  it('forgets an evicted entry at once', () => {
    const sut = new ConsumerTokenCache(10, 5_000, now);
    sut.set('acme', credentials('a'), 60_000, sut.epoch);
    sut.set('other', credentials('o'), 60_000, sut.epoch);

    sut.evict('acme');

    expect(sut.get('acme')).toBeUndefined();
    expect(sut.get('other')).toMatchObject(credentials('o'));
  });

  it('does not store what was read before an eviction that happened since', () => {
    const sut = new ConsumerTokenCache(10, 5_000, now);
    const epochAtRead = sut.epoch;
    // the token is rotated while the database read is in flight
    sut.evict('acme');

    sut.set('acme', credentials('old'), 60_000, epochAtRead);

    expect(sut.get('acme')).toBeUndefined();
    sut.set('acme', credentials('new'), 60_000, sut.epoch);
    expect(sut.get('acme')).toMatchObject(credentials('new'));
  });

  it('holds at most maxEntries, the oldest giving way first', () => {
    const sut = new ConsumerTokenCache(3, 5_000, now);
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      sut.set(id, credentials(id), 60_000, sut.epoch);
      clock += 1;
    }

    expect(sut.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => sut.get(id) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it('replaces an entry stored again, counting it once', () => {
    const sut = new ConsumerTokenCache(2, 5_000, now);
    sut.set('a', credentials('first'), 60_000, sut.epoch);
    sut.set('a', credentials('second'), 60_000, sut.epoch);
    sut.set('b', credentials('b'), 60_000, sut.epoch);

    expect(sut.size).toBe(2);
    expect(sut.get('a')).toMatchObject(credentials('second'));
    expect(sut.get('b')).toMatchObject(credentials('b'));
  });

  it('drops expired entries to make room before live ones', () => {
    const sut = new ConsumerTokenCache(2, 5_000, now);
    sut.set('short', credentials('s'), 100, sut.epoch);
    sut.set('long', credentials('l'), 60_000, sut.epoch);
    clock += 200;

    sut.set('new', credentials('n'), 60_000, sut.epoch);

    expect(sut.get('long')).toMatchObject(credentials('l'));
    expect(sut.get('new')).toMatchObject(credentials('n'));
  });

  it('keeps nothing when its bound is zero', () => {
    const sut = new ConsumerTokenCache(0, 5_000, now);
    sut.set('acme', credentials('a'), 60_000, sut.epoch);

    expect(sut.get('acme')).toBeUndefined();
  });
});
