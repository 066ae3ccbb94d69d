import { rates } from './throughput';

describe('the throughput chart’s rates', () => {
  it('divides what each counter moved by the seconds between two readings', () => {
    expect(
      rates([
        { at: 0, published: 10, delivered: 100, instance: 'a' },
        { at: 2_000, published: 30, delivered: 500, instance: 'a' },
      ]),
    ).toEqual([{ at: 2_000, published: 10, delivered: 200 }]);
  });

  it('pairs each reading with the previous one of the same instance, behind a load balancer', () => {
    expect(
      rates([
        { at: 0, published: 0, delivered: 0, instance: 'a' },
        { at: 1_000, published: 500, delivered: 500, instance: 'b' },
        { at: 2_000, published: 4, delivered: 8, instance: 'a' },
        { at: 3_000, published: 502, delivered: 510, instance: 'b' },
      ]),
    ).toEqual([
      { at: 2_000, published: 2, delivered: 4 },
      { at: 3_000, published: 1, delivered: 5 },
    ]);
  });

  it('starts afresh after a restart, when the counters went back', () => {
    expect(
      rates([
        { at: 0, published: 100, delivered: 100, instance: 'a' },
        { at: 1_000, published: 3, delivered: 3, instance: 'a' },
        { at: 2_000, published: 5, delivered: 9, instance: 'a' },
      ]),
    ).toEqual([{ at: 2_000, published: 2, delivered: 6 }]);
  });
});
