import { Injectable } from '@nestjs/common';

/** A consumer's handshake as a connect handler sees it: authenticated, its groups within its grants, not yet upgraded. */
export interface ConnectRequest {
  /** The id the socket will have if it is admitted. */
  readonly socketId: string;
  readonly path: string;
  readonly clientId: string;
  readonly remoteAddress: string;
  /** The groups named in the handshake (empty: none named). */
  readonly requestedGroups: readonly string[];
  /** The groups the socket joins unless the handler sets others: the requested ones, or the client's defaults. */
  readonly groups: readonly string[];
}

/** A connect handler's yes: the socket is admitted, with these groups when set (still checked against the client's grants). */
export interface ConnectDecision {
  readonly groups?: readonly string[];
}

/** Decides on a consumer's connection before its upgrade completes; throws ConnectVetoedError or ConnectHandlerFailedError to refuse it. */
export interface ConnectHandler {
  decide(request: ConnectRequest): Promise<ConnectDecision>;
}

/** The connect handler said no; the handshake is refused with 403 and `message`. */
export class ConnectVetoedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectVetoedError';
  }
}

/** The connect handler could not decide (down, slow, a bad answer) and the failure policy denies: 503 with Retry-After. */
export class ConnectHandlerFailedError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ConnectHandlerFailedError';
  }
}

/**
 * Where the consumer handshake asks whether a connection may open: the one
 * connect handler, when one is installed (`webhooks/` installs the connect
 * webhook when WEBHOOK_CONNECT_URL is set), and otherwise a yes at once. It
 * sits here, beside the triggers, so that the handshake needs to know nothing
 * of who decides.
 */
@Injectable()
export class ConnectGate {
  private handler?: ConnectHandler;

  /** Installs the connect handler; there is one at most. */
  use(handler: ConnectHandler): void {
    if (this.handler && this.handler !== handler) throw new Error('a connect handler is installed already');
    this.handler = handler;
  }

  get active(): boolean {
    return this.handler !== undefined;
  }

  decide(request: ConnectRequest): Promise<ConnectDecision> {
    return this.handler ? this.handler.decide(request) : Promise.resolve({});
  }
}
