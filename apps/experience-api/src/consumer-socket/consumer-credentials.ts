import type { IncomingHttpHeaders } from 'node:http';
import {
  BEARER_SUBPROTOCOL_PREFIX,
  CLIENT_ID_SUBPROTOCOL_PREFIX,
  CONSUMER_SUBPROTOCOL,
  EPOCH_SUBPROTOCOL_PREFIX,
  SINCE_SUBPROTOCOL_PREFIX,
} from '../protocol/index.js';

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
  const offered = offeredSubprotocols(headers);
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
  // the usual handshake names none
  if (header === undefined && query === null) return [];
  return [header, query]
    .flat()
    .filter((list): list is string => typeof list === 'string')
    .flatMap((list) => list.split(','))
    .map((group) => group.trim())
    .filter((group) => group !== '');
}

/** Where a reconnecting consumer stopped: the last `seq` it received, and the epoch it received it in, if it says. */
export interface HandshakeRecovery {
  readonly after: number;
  readonly epoch?: string;
}

/** A handshake's recovery position that cannot be read; refused with 400. */
export class BadRecoveryPositionError extends Error {}

const EPOCH_PATTERN = /^[A-Za-z0-9-]{1,100}$/;

/**
 * Where a consumer says it stopped: a `last_seq` header (with `epoch`),
 * `?since=` (with `?epoch=`), or the subprotocols `since.<seq>` and
 * `epoch.<id>` for browsers; the first of these given counts. Undefined when
 * it says nothing; throws BadRecoveryPositionError when what it says is not a
 * position.
 */
export function readHandshakeRecovery(headers: IncomingHttpHeaders, url: string | undefined): HandshakeRecovery | undefined {
  // the usual handshake says nothing of where it stopped: no header, query or subprotocol to read
  if (headers['last_seq'] === undefined && headers['epoch'] === undefined && headers['sec-websocket-protocol'] === undefined && !url?.includes('?')) {
    return undefined;
  }
  const query = url?.includes('?') ? new URL(url, 'ws://localhost').searchParams : undefined;
  const offered = offeredSubprotocols(headers);
  const fromSubprotocol = (prefix: string): string | undefined => offered.find((protocol) => protocol.startsWith(prefix))?.slice(prefix.length);
  const seq = firstGiven(headers['last_seq'], query?.get('since'), fromSubprotocol(SINCE_SUBPROTOCOL_PREFIX));
  const epoch = firstGiven(headers['epoch'], query?.get('epoch'), fromSubprotocol(EPOCH_SUBPROTOCOL_PREFIX));
  if (seq === undefined) {
    if (epoch !== undefined) throw new BadRecoveryPositionError('an epoch was given without the last seq received (last_seq, ?since= or since.<seq>)');
    return undefined;
  }
  if (!/^\d{1,16}$/.test(seq) || !Number.isSafeInteger(Number(seq))) {
    throw new BadRecoveryPositionError('the last seq received (last_seq, ?since= or since.<seq>) must be a whole number');
  }
  if (epoch !== undefined && !EPOCH_PATTERN.test(epoch)) throw new BadRecoveryPositionError(`the epoch must match ${EPOCH_PATTERN.source}`);
  return { after: Number(seq), epoch };
}

function offeredSubprotocols(headers: IncomingHttpHeaders): string[] {
  return (headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
}

function firstGiven(...values: Array<string | string[] | null | undefined>): string | undefined {
  for (const value of values) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) throw new BadRecoveryPositionError('the last seq received and its epoch may each be given once');
    return value.trim();
  }
  return undefined;
}
