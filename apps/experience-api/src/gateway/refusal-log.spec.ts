import { RefusalLog } from './refusal-log.js';

describe(RefusalLog.name, () => {
  let lines: string[];
  let sut: RefusalLog;

  beforeEach(() => {
    lines = [];
    sut = new RefusalLog({ warn: (line) => lines.push(line) }, 2, 60_000);
  });

  afterEach(() => sut.endPeriod());

  it('logs each refusal while there are few', () => {
    sut.refused('198.51.100.7', 'unauthorized', 'acme');
    sut.refused('198.51.100.8', 'conflict', undefined);

    expect(lines).toEqual([
      'refused handshake from 198.51.100.7: unauthorized (client_id acme)',
      'refused handshake from 198.51.100.8: conflict (client_id -)',
    ]);
  });

  it('counts a flood into one line per period, by reason, most frequent first', () => {
    for (let i = 0; i < 1_000; i++) sut.refused('203.0.113.7', i % 10 === 0 ? 'too_many_requests' : 'unauthorized', `attacker-${i}`);

    sut.endPeriod();

    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('refused handshakes: 998 more in the last 60 s not logged one by one (unauthorized 899, too_many_requests 99)');
  });

  it('logs one by one again once a period is over', () => {
    for (let i = 0; i < 5; i++) sut.refused('203.0.113.7', 'unauthorized', 'x');
    sut.endPeriod();
    lines.length = 0;

    sut.refused('203.0.113.9', 'unauthorized', 'y');

    expect(lines).toEqual(['refused handshake from 203.0.113.9: unauthorized (client_id y)']);
  });

  it('writes nothing at the end of a quiet period', () => {
    sut.refused('198.51.100.7', 'unauthorized', 'acme');
    sut.endPeriod();

    expect(lines).toHaveLength(1);
  });
});
