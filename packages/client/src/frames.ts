// The frames the gateway sends a consumer on /ws/publish (docs/protocol.md, "Frames"). The shapes mirror the
// server's; a client parses each text frame as one JSON object and ignores the fields it does not know.

/** The `code` of an error frame, sent just before the gateway closes the socket. */
export type ConsumerErrorCode =
  'messages_not_allowed' | 'message_too_large' | 'too_many_pings' | 'too_many_messages' | 'recovery_overflow' | 'recovery_unavailable';

/** The first frame on every connection: where the stream stands, and what a recovery came to. */
export interface WelcomeFrame {
  readonly type: 'welcome';
  readonly socket_id: string;
  readonly client_id: string;
  readonly groups: readonly string[];
  /** The newest `seq` accounted for: every entity after it reaches this connection live. */
  readonly last_seq: number;
  /** The history the `seq`s belong to; a position from another epoch cannot be recovered. */
  readonly epoch: string;
  /** Present when the connection said where it stopped: whether every entity it missed follows. */
  readonly recovered?: boolean;
  /** With `recovered: true`: how many missed entities follow the welcome. */
  readonly missed?: number;
  /** With `recovered: false`: why nothing follows. Resynchronise from the source of truth. */
  readonly reason?: 'history_expired' | 'epoch_changed' | 'too_many';
}

/** One published entity; `seq` increases with every entity published. */
export interface EntityFrame<Data = unknown> {
  readonly type: 'entity';
  readonly id: string;
  readonly seq: number;
  readonly groups: readonly string[];
  readonly data: Data;
  readonly published_at: string;
}

/** A message an operator sent to this connection, or to a selection it is in. */
export interface MessageFrame<Data = unknown> {
  readonly type: 'message';
  readonly data: Data;
}

/** Why the gateway is about to close the connection. */
export interface ErrorFrame {
  readonly type: 'error';
  readonly code: ConsumerErrorCode;
  readonly message: string;
}

/** Every frame the gateway sends a consumer. */
export type ServerFrame = WelcomeFrame | EntityFrame | MessageFrame | ErrorFrame;
