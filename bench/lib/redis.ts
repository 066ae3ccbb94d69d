import { Redis } from 'ioredis';

/** One connection that fails at once instead of retrying: the bench only checks and cleans up. */
async function open(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3_000 });
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause = error));
  try {
    await redis.connect();
  } catch (error) {
    // ioredis rejects with "Connection is closed"; the error event said why
    throw cause ?? error;
  }
  return redis;
}

/** Throws, saying why, when the Redis at `url` does not answer a PING. */
export async function checkRedis(url: string): Promise<void> {
  const redis = await open(url);
  try {
    await redis.ping();
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` (the run's own), so that a run leaves nothing in a shared Redis; returns how many. */
export async function removeKeys(url: string, prefix: string): Promise<number> {
  const redis = await open(url);
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}
