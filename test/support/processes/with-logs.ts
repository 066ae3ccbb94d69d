import type { SystemApiProcess } from './system-api.js';

/** Wraps a test body so that a failure ends with the last lines each system-api process printed. */
export function withLogs(processes: () => Array<SystemApiProcess | undefined>, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      const tails = processes().map(
        (p, n) =>
          `--- system-api ${n + 1}, last lines ---\n${(p?.log ?? '')
            .replace(/\x1b\[[0-9;]*m/g, '')
            .split('\n')
            .slice(-40)
            .join('\n')}`,
      );
      if (error instanceof Error) error.message += `\n\n${tails.join('\n')}`;
      throw error;
    }
  };
}
