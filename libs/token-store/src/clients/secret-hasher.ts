import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PARAMS: ScryptOptions = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

function derive(secret: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, KEY_LENGTH, params, (error, key) => (error ? reject(error) : resolve(key))));
}

/**
 * Slow, salted hashing of client secrets with scrypt, run on the libuv pool so
 * that it never blocks the event loop. Hashes carry their parameters, so they
 * can be raised later without invalidating stored ones.
 */
export class SecretHasher {
  // verifying against this keeps an unknown client_id as slow as a wrong secret
  private readonly decoy = this.hash(randomBytes(16).toString('hex'));

  async hash(secret: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await derive(secret, salt, PARAMS);
    return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  async verify(secret: string, stored: string | undefined): Promise<boolean> {
    const [scheme, n, r, p, salt, key] = (stored ?? (await this.decoy)).split('$');
    if (scheme !== 'scrypt' || key === undefined) return false;
    const expected = Buffer.from(key, 'base64');
    // a corrupted stored hash is a failed login, not a crash
    const actual = await derive(secret, Buffer.from(salt, 'base64'), {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: PARAMS.maxmem,
    }).catch(() => undefined);
    return stored !== undefined && actual !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
  }
}
