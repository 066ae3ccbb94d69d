/** The `code` of the error frame a consumer gets before it is closed: for what it sent, or because its recovery failed. */
export const ConsumerErrorCode = {
  MESSAGES_NOT_ALLOWED: 'messages_not_allowed',
  MESSAGE_TOO_LARGE: 'message_too_large',
  TOO_MANY_PINGS: 'too_many_pings',
  /** On an inbound path: more messages than `INBOUND_MESSAGES_PER_SECOND`. */
  TOO_MANY_MESSAGES: 'too_many_messages',
  /** Live entities outgrew what is held back while the missed ones were replayed: reconnect with the last seq received. */
  RECOVERY_OVERFLOW: 'recovery_overflow',
  /** The history could not be read (the database is down, or it was pruned during the replay): reconnect with the last seq received. */
  RECOVERY_UNAVAILABLE: 'recovery_unavailable',
} as const;

export type ConsumerErrorCode = (typeof ConsumerErrorCode)[keyof typeof ConsumerErrorCode];
