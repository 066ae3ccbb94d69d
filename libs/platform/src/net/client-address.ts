import { isIP } from 'node:net';
import { AddressList, normalizeAddress } from './address-list.js';

/**
 * The address of the party that really made a request: the socket peer, unless
 * that peer is a trusted proxy, in which case `X-Forwarded-For` is walked from
 * the right for as long as each hop is trusted. Entries added by an untrusted
 * peer are never believed, so a spoofed header changes nothing.
 */
export function resolveClientAddress(peerAddress: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: AddressList): string {
  let address = normalizeAddress(peerAddress ?? '');
  if (!trustedProxies.contains(address) || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((hop) => normalizeAddress(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    if (isIP(hops[i]) === 0) break;
    address = hops[i];
    if (!trustedProxies.contains(address)) break;
  }
  return address;
}
