import type { IncomingHttpHeaders } from 'node:http';
import { BEARER_SUBPROTOCOL_PREFIX, CLIENT_ID_SUBPROTOCOL_PREFIX, CONSUMER_SUBPROTOCOL } from '../protocol/index.js';

export interface HandshakeCredentials {
  readonly clientId?: string;
  readonly token?: string;
  /** Credentials came as subprotocols, and `push.v1` was not among them. */
  readonly missingSubprotocol: boolean;
}

/**
 * Reads a consumer's credentials from the upgrade request: the `client_id` and
 * `Authorization: Bearer` headers (Java, Postman and server clients), or the
 * subprotocols `bearer.<token>` and `client_id.<id>` (browsers, which cannot
 * set headers).
 */
export function readHandshakeCredentials(headers: IncomingHttpHeaders): HandshakeCredentials {
  const authorization = headers.authorization;
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const clientIdHeader = headers['client_id'];
  if (bearer !== undefined || clientIdHeader !== undefined) {
    return { clientId: typeof clientIdHeader === 'string' ? clientIdHeader.trim() : undefined, token: bearer, missingSubprotocol: false };
  }
  const offered = (headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
  const token = offered.find((protocol) => protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX))?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  const clientId = offered.find((protocol) => protocol.startsWith(CLIENT_ID_SUBPROTOCOL_PREFIX))?.slice(CLIENT_ID_SUBPROTOCOL_PREFIX.length);
  return {
    clientId,
    token,
    missingSubprotocol: (token !== undefined || clientId !== undefined) && !offered.includes(CONSUMER_SUBPROTOCOL),
  };
}

/** Groups asked for in the handshake, in place of the defaults: a `groups: a,b` header, or `?groups=a,b` for browsers. */
export function readHandshakeGroups(headers: IncomingHttpHeaders, url: string | undefined): string[] {
  const header = headers['groups'];
  const query = url?.includes('?') ? new URL(url, 'ws://localhost').searchParams.get('groups') : null;
  return [header, query]
    .flat()
    .filter((list): list is string => typeof list === 'string')
    .flatMap((list) => list.split(','))
    .map((group) => group.trim())
    .filter((group) => group !== '');
}
