import { listeningUrl } from './listening-url.js';

describe(listeningUrl.name, () => {
  const sut = listeningUrl;

  it('names the loopback address bound', () => {
    expect(sut({ address: '127.0.0.1', family: 'IPv4', port: 3000 }, 'http')).toEqual({ url: 'http://127.0.0.1:3000', everyInterface: false });
  });

  it.each([
    ['0.0.0.0', 'IPv4', 'https://0.0.0.0:8443'],
    ['::', 'IPv6', 'https://[::]:8443'],
  ])('says when %s is every interface', (address, family, url) => {
    expect(sut({ address, family, port: 8443 }, 'https')).toEqual({ url, everyInterface: true });
  });

  it('brackets an IPv6 address', () => {
    expect(sut({ address: '::1', family: 'IPv6', port: 3001 }, 'http').url).toBe('http://[::1]:3001');
  });
});
