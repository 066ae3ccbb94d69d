import { readClientCredentials } from './client-credentials.js';

function basic(text: string): string {
  return `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
}

describe(readClientCredentials.name, () => {
  const sut = readClientCredentials;

  it('reads the client_id and client_secret headers', () => {
    expect(sut({ client_id: 'shop-7', client_secret: 's3cret' })).toEqual({ clientId: 'shop-7', clientSecret: 's3cret' });
  });

  it('reads HTTP Basic credentials', () => {
    expect(sut({ authorization: basic('shop-7:s3cret') })).toEqual({ clientId: 'shop-7', clientSecret: 's3cret' });
    expect(sut({ authorization: `basic   ${Buffer.from('shop-7:s3cret').toString('base64')}  ` })).toEqual({
      clientId: 'shop-7',
      clientSecret: 's3cret',
    });
  });

  it('splits Basic credentials at the first colon, so a secret may contain colons', () => {
    expect(sut({ authorization: basic('shop-7:a:b::c') })).toEqual({ clientId: 'shop-7', clientSecret: 'a:b::c' });
  });

  it('decodes Basic credentials as UTF-8', () => {
    expect(sut({ authorization: basic('café:pâté') })).toEqual({ clientId: 'café', clientSecret: 'pâté' });
  });

  it('prefers complete headers over Basic', () => {
    expect(sut({ client_id: 'header', client_secret: 'h', authorization: basic('basic:b') })).toEqual({
      clientId: 'header',
      clientSecret: 'h',
    });
  });

  it('falls back to Basic when the headers are incomplete', () => {
    expect(sut({ client_id: 'header', authorization: basic('basic:b') })).toEqual({ clientId: 'basic', clientSecret: 'b' });
    expect(sut({ client_id: 'header', client_secret: '', authorization: basic('basic:b') })).toEqual({
      clientId: 'basic',
      clientSecret: 'b',
    });
  });

  it.each([
    ['only a client_id header', { client_id: 'shop-7' }],
    ['only a client_secret header', { client_secret: 's3cret' }],
    ['empty headers', { client_id: '', client_secret: '' }],
    ['nothing', {}],
  ])('is undefined for %s', (_, headers) => {
    expect(sut(headers)).toBeUndefined();
  });

  it.each([
    ['no colon', basic('shop-7')],
    ['an empty id', basic(':s3cret')],
    ['an empty secret', basic('shop-7:')],
    ['an empty credential', basic(':')],
    ['characters outside base64', 'Basic shop-7:s3cret'],
    ['no credentials at all', 'Basic'],
    ['two words', `Basic ${Buffer.from('a:b').toString('base64')} extra`],
    ['another scheme', `Bearer ${Buffer.from('shop-7:s3cret').toString('base64')}`],
  ])('is undefined for Basic with %s', (_, authorization) => {
    expect(sut({ authorization })).toBeUndefined();
  });
});
