/** The `code` of the error frame a consumer gets before it is closed for what it sent. */
export const ConsumerErrorCode = {
  MESSAGES_NOT_ALLOWED: 'messages_not_allowed',
  MESSAGE_TOO_LARGE: 'message_too_large',
  TOO_MANY_PINGS: 'too_many_pings',
  /** On an inbound path: more messages than `INBOUND_MESSAGES_PER_SECOND`. */
  TOO_MANY_MESSAGES: 'too_many_messages',
} as const;

export type ConsumerErrorCode = (typeof ConsumerErrorCode)[keyof typeof ConsumerErrorCode];
