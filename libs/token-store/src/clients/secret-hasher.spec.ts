import { randomBytes, scryptSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SecretHasher } from './secret-hasher.js';

const SECRET = 'correct-horse-battery-staple';

/** The fastest of several timed runs, which is the least disturbed by other work on the machine. */
async function fastestMs(runs: number, work: () => Promise<unknown>): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

describe(SecretHasher.name, () => {
  let sut: SecretHasher;

  beforeEach(() => {
    sut = new SecretHasher();
  });

  describe('hash', () => {
    it('carries the scheme, the scrypt parameters, a 16-byte salt and a 32-byte key', async () => {
      const stored = await sut.hash(SECRET);

      const [scheme, n, r, p, salt, key, ...rest] = stored.split('$');
      expect([scheme, n, r, p]).toEqual(['scrypt', '16384', '8', '1']);
      expect(Buffer.from(salt, 'base64')).toHaveLength(16);
      expect(Buffer.from(key, 'base64')).toHaveLength(32);
      expect(rest).toEqual([]);
    });

    it('salts every hash, so two hashes of one secret differ', async () => {
      const [first, second] = await Promise.all([sut.hash(SECRET), sut.hash(SECRET)]);

      expect(first).not.toBe(second);
      expect(first.split('$')[4]).not.toBe(second.split('$')[4]);
    });

    it('never contains the secret, plainly or encoded', async () => {
      const stored = await sut.hash(SECRET);

      for (const encoding of ['utf8', 'base64', 'hex'] as const) {
        expect(stored).not.toContain(Buffer.from(SECRET).toString(encoding));
      }
    });
  });

  describe('verify', () => {
    it('is true for the secret that was hashed', async () => {
      const stored = await sut.hash(SECRET);

      expect(await sut.verify(SECRET, stored)).toBe(true);
    });

    it('is true across instances, and for secrets beyond ASCII', async () => {
      const stored = await new SecretHasher().hash('pässwörd-✓');

      expect(await sut.verify('pässwörd-✓', stored)).toBe(true);
    });

    it('is false for any other secret', async () => {
      const stored = await sut.hash(SECRET);

      expect(await sut.verify('correct-horse-battery-stapl', stored)).toBe(false);
      expect(await sut.verify(`${SECRET} `, stored)).toBe(false);
      expect(await sut.verify('', stored)).toBe(false);
    });

    it('verifies with the parameters a hash carries, so older hashes keep working', async () => {
      const salt = randomBytes(16);
      const key = scryptSync(SECRET, salt, 32, { N: 1_024, r: 8, p: 1 });
      const stored = `scrypt$1024$8$1$${salt.toString('base64')}$${key.toString('base64')}`;

      expect(await sut.verify(SECRET, stored)).toBe(true);
      expect(await sut.verify('wrong', stored)).toBe(false);
    });

    it.each([['plain-text'], [''], ['bcrypt$2b$10$abc'], ['scrypt$16384$8$1']])('is false for a stored value %j that is not a hash', async (stored) => {
      expect(await sut.verify(SECRET, stored)).toBe(false);
    });

    it('is false, not an error, for a corrupted stored hash', async () => {
      await expect(sut.verify('x', 'scrypt$abc$8$1$c2FsdA==$a2V5')).resolves.toBe(false);
    });

    it('is false when there is no stored hash', async () => {
      expect(await sut.verify(SECRET, undefined)).toBe(false);
      expect(await sut.verify('', undefined)).toBe(false);
    });

    it('takes about as long with no stored hash as with a wrong secret', async () => {
      // an unknown client_id must not be told apart from a wrong secret by timing
      const stored = await sut.hash(SECRET);
      await sut.verify(SECRET, undefined);

      const wrongSecret = await fastestMs(3, () => sut.verify('wrong', stored));
      const noHash = await fastestMs(3, () => sut.verify('wrong', undefined));

      // a shortcut would answer in well under a millisecond; a derivation takes tens
      expect(noHash).toBeGreaterThan(wrongSecret * 0.3);
    });
  });
});
