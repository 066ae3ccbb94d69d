import { Grants } from './grants.js';

describe(Grants.name, () => {
  it('allows a named group and every group under a prefix grant, nothing else', () => {
    const sut = new Grants(['orders', 'tenant-a/*']);

    expect(['orders', 'tenant-a/', 'tenant-a/eu', 'tenant-a/eu/x'].map((group) => sut.allows(group))).toEqual([true, true, true, true]);
    expect(['order', 'orders2', 'tenant-a', 'tenant-b/eu', 'TENANT-A/eu'].map((group) => sut.allows(group))).toEqual([false, false, false, false, false]);
  });

  it('grants every group with a lone *', () => {
    expect(new Grants(['*']).allows('anything/at:all')).toBe(true);
  });

  it('grants nothing when there are no grants', () => {
    const sut = new Grants([]);

    expect(sut.allows('orders')).toBe(false);
    expect(sut.defaults(null)).toEqual([]);
  });

  it('names the first group refused', () => {
    expect(new Grants(['a', 'b*']).firstRefused(['a', 'bee', 'c', 'd'])).toBe('c');
    expect(new Grants(['a']).firstRefused(['a'])).toBeUndefined();
  });

  it('defaults to the plain grants, or to the chosen groups still granted', () => {
    const sut = new Grants(['eu', 'us', 'tenant-a/*']);

    expect(sut.defaults(null)).toEqual(['eu', 'us']);
    expect(sut.defaults(['us', 'tenant-a/x', 'asia'])).toEqual(['us', 'tenant-a/x']);
    expect(sut.defaults([])).toEqual([]);
  });
});
