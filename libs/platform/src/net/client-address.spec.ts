import { AddressList } from './address-list.js';
import { resolveClientAddress } from './client-address.js';

describe(resolveClientAddress.name, () => {
  const proxies = AddressList.parse('10.0.0.0/8, fd00::/8');
  const sut = resolveClientAddress;

  it('returns the peer when it is not a trusted proxy, whatever X-Forwarded-For claims', () => {
    // a client spoofing the header must not be able to pose as a local or trusted address
    expect(sut('203.0.113.9', '127.0.0.1', proxies)).toBe('203.0.113.9');
    expect(sut('203.0.113.9', '10.0.0.1, 198.51.100.1', proxies)).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For entirely when no proxy is trusted', () => {
    expect(sut('10.0.0.2', '198.51.100.1', AddressList.parse(''))).toBe('10.0.0.2');
  });

  it('returns a trusted peer itself when it sends no X-Forwarded-For', () => {
    expect(sut('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
  });

  it('takes the hop a trusted proxy added', () => {
    expect(sut('10.0.0.2', '198.51.100.1', proxies)).toBe('198.51.100.1');
  });

  it('takes the right-most untrusted hop, not what the client wrote on the left', () => {
    // the client sent "X-Forwarded-For: 127.0.0.1"; the proxy appended the real address
    expect(sut('10.0.0.2', '127.0.0.1, 198.51.100.1', proxies)).toBe('198.51.100.1');
  });

  it('walks back through a chain of trusted proxies', () => {
    expect(sut('10.0.0.3', '198.51.100.1, 10.0.0.1, 10.0.0.2', proxies)).toBe('198.51.100.1');
    expect(sut('fd00::3', '2001:db8::1, fd00::1', proxies)).toBe('2001:db8::1');
  });

  it('stops at the left-most hop when every hop is trusted', () => {
    expect(sut('10.0.0.3', '10.0.0.1, 10.0.0.2', proxies)).toBe('10.0.0.1');
  });

  it('reads several X-Forwarded-For headers as one list', () => {
    expect(sut('10.0.0.3', ['198.51.100.7, 198.51.100.1', '10.0.0.2'], proxies)).toBe('198.51.100.1');
  });

  it('normalises IPv4-mapped peers and hops', () => {
    expect(sut('::ffff:10.0.0.2', '::ffff:198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(sut('::ffff:203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
  });

  it('stops at a garbage hop and keeps the last address it could trust', () => {
    expect(sut('10.0.0.2', '198.51.100.1, not-an-address', proxies)).toBe('10.0.0.2');
    expect(sut('10.0.0.3', '198.51.100.1, unknown, 10.0.0.2', proxies)).toBe('10.0.0.2');
    expect(sut('10.0.0.2', '198.51.100.1:4444', proxies)).toBe('10.0.0.2');
    expect(sut('10.0.0.2', '', proxies)).toBe('10.0.0.2');
  });

  it('ignores garbage left of the right-most untrusted hop', () => {
    expect(sut('10.0.0.2', 'garbage, <script>, 198.51.100.1', proxies)).toBe('198.51.100.1');
  });
});
