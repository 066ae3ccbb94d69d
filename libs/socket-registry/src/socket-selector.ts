export type SocketType = 'inbound' | 'outbound';

/** Which sockets an operation applies to; every field given must match, and any one of `groups` suffices. */
export interface SocketSelector {
  /** One socket, by its id. */
  readonly socketId?: string;
  readonly type?: SocketType;
  readonly path?: string;
  readonly clientId?: string;
  readonly groups?: readonly string[];
}

export interface DeliveryFailure {
  readonly socket_id: string;
  readonly reason: 'not_open' | 'slow_consumer' | 'send_failed';
}

/** One pre-serialised text frame and the sockets it is for. */
export interface Delivery {
  readonly frame: Buffer;
  readonly selector: SocketSelector;
  /** The `seq` of the entity the frame carries, if it carries one: what a socket in recovery dedupes and orders by. */
  readonly seq?: number;
}

export interface BroadcastResult {
  readonly recipients: number;
  readonly failures: DeliveryFailure[];
  /**
   * Set when the delivery itself failed (its selector could not be read): its
   * frame reached none of its sockets, or only those selected before the
   * failure. The other deliveries of the batch went on regardless.
   */
  readonly error?: Error;
}
