import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@app/platform';
import type { ExperienceConfig } from '../config/experience.config.js';
import { SystemApiHealth } from './system-api-health.js';

function reader(systemApiUrl: string | undefined): SystemApiHealth {
  return new SystemApiHealth({ systemApiUrl: systemApiUrl === undefined ? undefined : new URL(systemApiUrl) } as ExperienceConfig, systemClock);
}

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe(SystemApiHealth.name, () => {
  it('says when SYSTEM_API_URL is not set, without trying anything', async () => {
    expect(await reader(undefined).read()).toEqual({ url: null, reachable: false, health: null, error: 'SYSTEM_API_URL is not set' });
  });

  it('says when nothing answers at SYSTEM_API_URL, and never shows its credentials', async () => {
    const port = await closedPort();
    expect(await reader(`http://ops:secret@127.0.0.1:${port}/`).read()).toEqual({
      url: `http://127.0.0.1:${port}`,
      reachable: false,
      health: null,
      error: 'unreachable (ECONNREFUSED)',
    });
  });
});
