import { ManualClock } from '@app/platform';
import { RefusalLog } from './refusal-log.js';

describe(RefusalLog.name, () => {
  const PERIOD_MS = 60_000;
  let lines: string[];
  let clock: ManualClock;
  let sut: RefusalLog;

  beforeEach(() => {
    lines = [];
    clock = new ManualClock();
    sut = new RefusalLog({ warn: (line) => lines.push(line) }, 2, PERIOD_MS, clock);
  });

  it('logs each refusal while there are few', () => {
    sut.refused('198.51.100.7', 'unauthorized', 'acme');
    sut.refused('198.51.100.8', 'conflict', undefined);

    expect(lines).toEqual([
      'refused handshake from 198.51.100.7: unauthorized (client_id acme)',
      'refused handshake from 198.51.100.8: conflict (client_id -)',
    ]);
  });

  it('counts a flood into one line per period, by reason, most frequent first', async () => {
    for (let i = 0; i < 1_000; i++) sut.refused('203.0.113.7', i % 10 === 0 ? 'too_many_requests' : 'unauthorized', `attacker-${i}`);

    await clock.advance(PERIOD_MS - 1);
    expect(lines).toHaveLength(2);
    await clock.advance(1);

    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('refused handshakes: 998 more in the last 60 s not logged one by one (unauthorized 899, too_many_requests 99)');
  });

  it('logs one by one again once a period is over', async () => {
    for (let i = 0; i < 5; i++) sut.refused('203.0.113.7', 'unauthorized', 'x');
    await clock.advance(PERIOD_MS);
    lines.length = 0;

    sut.refused('203.0.113.9', 'unauthorized', 'y');

    expect(lines).toEqual(['refused handshake from 203.0.113.9: unauthorized (client_id y)']);
  });

  it('writes nothing at the end of a quiet period, and keeps no timer once it is over', async () => {
    sut.refused('198.51.100.7', 'unauthorized', 'acme');
    await clock.advance(PERIOD_MS);

    expect(lines).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });
});
