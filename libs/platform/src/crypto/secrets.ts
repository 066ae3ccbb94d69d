import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random, URL-safe credential carrying `bytes * 8` bits of entropy. */
export function randomCredential(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares two secrets in time that depends only on their digests' length, never on where they differ. */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

/** Constant-time comparison of two equal-length digests; false when the lengths differ. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
