import type { SocketSelector } from '@app/socket-registry';

/**
 * Where consumers connect to listen. Operators may declare further paths
 * (INBOUND_PATHS) where consumers connect the same way and may also send.
 */
export const CONSUMER_PATH = '/ws/publish';

/** The subprotocol a consumer speaks; browsers must offer it beside their credentials. */
export const CONSUMER_SUBPROTOCOL = 'push.v1';
/** A browser's token, offered as the subprotocol `bearer.<token>`. */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';
/** A browser's client id, offered as the subprotocol `client_id.<id>`. */
export const CLIENT_ID_SUBPROTOCOL_PREFIX = 'client_id.';

/** Where a browser stopped, offered as the subprotocol `since.<seq>` (others send a `last_seq` header or `?since=`). */
export const SINCE_SUBPROTOCOL_PREFIX = 'since.';
/** The epoch of that position, as the subprotocol `epoch.<id>` (others send an `epoch` header or `?epoch=`). */
export const EPOCH_SUBPROTOCOL_PREFIX = 'epoch.';

/** Only `push.v1` is ever selected, so a token offered as a subprotocol is never echoed back. */
export function selectSubprotocol(offered: ReadonlySet<string>): string | false {
  return offered.has(CONSUMER_SUBPROTOCOL) ? CONSUMER_SUBPROTOCOL : false;
}

/** The consumer sockets, on whichever path they connected, narrowed to a client or to any of some groups. */
export function consumerSockets(narrowing: Pick<SocketSelector, 'clientId' | 'groups'> = {}): SocketSelector {
  return { type: 'inbound', ...narrowing };
}
