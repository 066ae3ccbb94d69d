/** The WebSocket close codes a consumer sees (RFC 6455, section 7.4.1). */
export const CloseCode = {
  /** The consumer sent a message or flooded pings, or its client was deleted. */
  POLICY_VIOLATION: 1008,
  /** The consumer sent a frame over the size limit. */
  MESSAGE_TOO_BIG: 1009,
  /** The instance is restarting or stopping: reconnect, to another instance behind the load balancer. */
  SERVICE_RESTART: 1012,
  /** Recovery could not be completed now: reconnect (after a moment) with the last seq received. */
  TRY_AGAIN_LATER: 1013,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
