import type { ConsumerErrorCode } from './error-codes.js';

/** The first frame on every consumer socket. */
export interface WelcomeFrame {
  readonly type: 'welcome';
  readonly socket_id: string;
  readonly client_id: string;
  readonly groups: readonly string[];
  /** The newest `seq` accounted for: every entity after it reaches this socket live. */
  readonly last_seq: number;
  /** The history the `seq`s belong to; a position from another epoch cannot be recovered. */
  readonly epoch: string;
  /** Present when the consumer asked to recover: whether every entity it missed follows. */
  readonly recovered?: boolean;
  /** How many missed entities follow the welcome (recovered: true). */
  readonly missed?: number;
  /** Why nothing follows (recovered: false): resynchronise from the source of truth. */
  readonly reason?: 'history_expired' | 'epoch_changed' | 'too_many';
}

/** Where the stream stands for a new socket, and what its recovery came to, if it asked for one. */
export interface WelcomePosition {
  readonly lastSeq: number;
  readonly epoch: string;
  readonly recovery?:
    { readonly recovered: true; readonly missed: number } | { readonly recovered: false; readonly reason: NonNullable<WelcomeFrame['reason']> };
}

/** One published entity; `seq` increases with every entity published. */
export interface EntityFrame {
  readonly type: 'entity';
  readonly id: string;
  readonly seq: number;
  readonly groups: readonly string[];
  readonly data: unknown;
  readonly published_at: string;
}

/** A message an operator sent to this socket, or to a selection it is in (`POST /admin/sockets/:id/messages`, `POST /admin/broadcast`). */
export interface MessageFrame {
  readonly type: 'message';
  readonly data: unknown;
}

/** Why the server is about to close the socket. */
export interface ErrorFrame {
  readonly type: 'error';
  readonly code: ConsumerErrorCode;
  readonly message: string;
}

/** Every frame the server sends a consumer. */
export type ServerFrame = WelcomeFrame | EntityFrame | MessageFrame | ErrorFrame;

/** The welcome frame's text. */
export function welcomeFrame(socketId: string, clientId: string, groups: readonly string[], position: WelcomePosition): string {
  return JSON.stringify({
    type: 'welcome',
    socket_id: socketId,
    client_id: clientId,
    groups,
    last_seq: position.lastSeq,
    epoch: position.epoch,
    ...position.recovery,
  } satisfies WelcomeFrame);
}

/**
 * The `entity` frame, built as text around `data` exactly as the publisher
 * sent it: never parsed into numbers and printed again.
 */
export function entityFrame(id: string, seq: number, groups: readonly string[], dataText: string, publishedAt: Date): Buffer {
  const { head, tail } = entityFrameAround(id, groups, dataText, publishedAt);
  return Buffer.from(`${head}${seq}${tail}`);
}

/**
 * The `entity` frame's text before and after its `seq`, for a publisher that
 * learns the `seq` only where the frame is stored (the cluster's stream).
 */
export function entityFrameAround(
  id: string,
  groups: readonly string[],
  dataText: string,
  publishedAt: Date,
): { readonly head: string; readonly tail: string } {
  return {
    head: `{"type":"entity","id":${JSON.stringify(id)},"seq":`,
    tail: `,"groups":${JSON.stringify(groups)},"data":${dataText},"published_at":"${publishedAt.toISOString()}"}`,
  };
}

/** The `message` frame, built around `data` exactly as the operator sent it. */
export function messageFrame(dataText: string): Buffer {
  return Buffer.from(`{"type":"message","data":${dataText}}`);
}

/** The error frame's text. */
export function errorFrame(code: ConsumerErrorCode, message: string): string {
  return JSON.stringify({ type: 'error', code, message } satisfies ErrorFrame);
}
