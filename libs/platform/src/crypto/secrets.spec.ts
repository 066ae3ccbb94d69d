import { createHash } from 'node:crypto';
import { digestsEqual, randomCredential, secretsEqual, sha256 } from './secrets.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe(randomCredential.name, () => {
  it('encodes 32 bytes by default as 43 URL-safe characters without padding', () => {
    const sut = randomCredential();

    expect(sut).toHaveLength(43);
    expect(sut).toMatch(BASE64URL);
    expect(Buffer.from(sut, 'base64url')).toHaveLength(32);
  });

  it.each([
    [16, 22],
    [24, 32],
    [48, 64],
  ])('encodes %i bytes as %i characters', (bytes, length) => {
    const sut = randomCredential(bytes);

    expect(sut).toHaveLength(length);
    expect(sut).toMatch(BASE64URL);
  });

  it('never repeats itself over many draws', () => {
    const draws = new Set(Array.from({ length: 10_000 }, () => randomCredential(16)));

    expect(draws.size).toBe(10_000);
  });

  it('spreads its characters over the whole alphabet', () => {
    // 10,000 draws of 43 characters: each of the 64 symbols should appear, and none should dominate
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) for (const char of randomCredential()) counts.set(char, (counts.get(char) ?? 0) + 1);

    expect(counts.size).toBe(64);
    const expected = (10_000 * 43) / 64;
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(expected * 0.5);
      expect(count).toBeLessThan(expected * 1.5);
    }
  });
});

describe(sha256.name, () => {
  it('is the SHA-256 digest of the UTF-8 text', () => {
    expect(sha256('päss').equals(createHash('sha256').update(Buffer.from('päss', 'utf8')).digest())).toBe(true);
    expect(sha256('')).toHaveLength(32);
  });
});

describe(secretsEqual.name, () => {
  it('is true for the same secret', () => {
    expect(secretsEqual('correct horse', 'correct horse')).toBe(true);
    expect(secretsEqual('', '')).toBe(true);
  });

  it('is false for different secrets, including prefixes and different lengths', () => {
    expect(secretsEqual('correct horse', 'correct horsf')).toBe(false);
    expect(secretsEqual('correct', 'correct horse')).toBe(false);
    expect(secretsEqual('correct horse', '')).toBe(false);
    expect(secretsEqual('Secret', 'secret')).toBe(false);
  });
});

describe(digestsEqual.name, () => {
  it('is true for equal digests and false for different ones', () => {
    expect(digestsEqual(sha256('a'), sha256('a'))).toBe(true);
    expect(digestsEqual(sha256('a'), sha256('b'))).toBe(false);
  });

  it('is false, without throwing, for digests of different lengths', () => {
    const digest = sha256('a');

    expect(digestsEqual(digest, digest.subarray(0, 16))).toBe(false);
    expect(digestsEqual(Buffer.alloc(0), digest)).toBe(false);
  });
});
