import { createServer, type AddressInfo } from 'node:net';

/** A port nothing listens on at the moment of asking: for a server that is down, or one a test starts later. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
