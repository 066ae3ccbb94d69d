import type { AddressInfo } from 'node:net';

/**
 * The URL a server is reachable at, from the address it actually bound (not the one asked for),
 * and whether that is every interface. An IPv6 address is bracketed.
 */
export function listeningUrl(address: AddressInfo | string | null, scheme: string): { url: string; everyInterface: boolean } {
  if (address === null || typeof address === 'string') return { url: `${scheme}+unix://${address ?? ''}`, everyInterface: false };
  const everyInterface = address.address === '0.0.0.0' || address.address === '::';
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return { url: `${scheme}://${host}:${address.port}`, everyInterface };
}
