import { AddressList, normalizeAddress } from './address-list.js';

describe(AddressList.name, () => {
  it('matches IPv4 addresses inside a CIDR block and nothing outside it', () => {
    const sut = AddressList.parse('10.0.0.0/8');

    expect(sut.contains('10.0.0.0')).toBe(true);
    expect(sut.contains('10.255.255.255')).toBe(true);
    expect(sut.contains('11.0.0.0')).toBe(false);
    expect(sut.contains('9.255.255.255')).toBe(false);
  });

  it('treats a bare address as a single-address block', () => {
    const sut = AddressList.parse('192.168.1.7, 2001:db8::7');

    expect(sut.contains('192.168.1.7')).toBe(true);
    expect(sut.contains('192.168.1.8')).toBe(false);
    expect(sut.contains('2001:db8::7')).toBe(true);
    expect(sut.contains('2001:db8::8')).toBe(false);
  });

  it('matches IPv6 addresses inside a CIDR block and nothing outside it', () => {
    const sut = AddressList.parse('fd00::/8, ::1/128');

    expect(sut.contains('fd12:3456::1')).toBe(true);
    expect(sut.contains('::1')).toBe(true);
    expect(sut.contains('fe80::1')).toBe(false);
    expect(sut.contains('::2')).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 peer against IPv4 blocks', () => {
    const sut = AddressList.parse('127.0.0.1/32');

    // dual-stack servers report IPv4 peers this way
    expect(sut.contains('::ffff:127.0.0.1')).toBe(true);
    expect(sut.contains('::FFFF:127.0.0.1')).toBe(true);
    expect(sut.contains('::ffff:127.0.0.2')).toBe(false);
  });

  it('keeps the trimmed entries and skips blank ones', () => {
    const sut = AddressList.parse(' 10.0.0.0/8 ,, ::1/128 , ');

    expect(sut.entries).toEqual(['10.0.0.0/8', '::1/128']);
    expect(sut.isEmpty).toBe(false);
  });

  it.each([[''], ['  '], [' , ,']])('parses %j as an empty list that contains nothing', (text) => {
    const sut = AddressList.parse(text);

    expect(sut.isEmpty).toBe(true);
    expect(sut.entries).toEqual([]);
    expect(sut.contains('127.0.0.1')).toBe(false);
    expect(sut.contains('::1')).toBe(false);
  });

  it('does not contain strings that are not addresses', () => {
    const sut = AddressList.parse('0.0.0.0/0, ::/0');

    expect(sut.contains('')).toBe(false);
    expect(sut.contains('localhost')).toBe(false);
    expect(sut.contains('10.0.0.1:8080')).toBe(false);
  });

  it.each([
    ['not-an-ip'],
    ['10.0.0'],
    ['256.0.0.1'],
    ['10.0.0.0/33'],
    ['::1/129'],
    ['10.0.0.0/-1'],
    ['10.0.0.0/8.5'],
    ['10.0.0.0/abc'],
    ['10.0.0.0/8/1'],
    // a dangling slash must not silently become /0, which would match every address
    ['10.0.0.0/'],
  ])('throws naming the bad entry "%s"', (entry) => {
    expect(() => AddressList.parse(`127.0.0.1/32, ${entry}, ::1/128`)).toThrow(`"${entry}" is not an address or CIDR block`);
  });
});

describe(normalizeAddress.name, () => {
  it('strips the IPv4-mapped prefix and leaves other addresses alone', () => {
    expect(normalizeAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('::1')).toBe('::1');
    expect(normalizeAddress('2001:db8::ffff:10.1.2.3')).toBe('2001:db8::ffff:10.1.2.3');
  });
});
