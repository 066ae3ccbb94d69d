/** The `code` of the error frame a consumer gets before it is closed for what it sent. */
export const ConsumerErrorCode = {
  MESSAGES_NOT_ALLOWED: 'messages_not_allowed',
  MESSAGE_TOO_LARGE: 'message_too_large',
  TOO_MANY_PINGS: 'too_many_pings',
} as const;

export type ConsumerErrorCode = (typeof ConsumerErrorCode)[keyof typeof ConsumerErrorCode];
