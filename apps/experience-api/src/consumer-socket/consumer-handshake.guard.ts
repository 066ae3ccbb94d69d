import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { isDatabaseUnavailable } from '@app/database';
import { normalizeAddress, RateLimiter, resolveClientAddress } from '@app/platform';
import { ConsumerTokenService, GROUP_PATTERN, InstanceStoppingError, LiveSocketService, MAX_GROUPS, TokenRejectedError } from '@app/token-store';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { CONSUMER_PATH, CONSUMER_SUBPROTOCOL } from '../protocol/index.js';
import { ConnectGate, ConnectHandlerFailedError, ConnectVetoedError } from '../socket-events/connect-gate.js';
import { ConnectionShedding } from '../websocket-transport/connection-shedding.js';
import { HandshakeRefusals } from '../websocket-transport/handshake-refusals.js';
import { HandshakeRefusedError } from '../websocket-transport/handshake-refused.error.js';
import type { UpgradeGuard } from '../websocket-transport/upgrade-guard.js';
import {
  BadRecoveryPositionError,
  type HandshakeRecovery,
  readHandshakeCredentials,
  readHandshakeGroups,
  readHandshakeRecovery,
} from './consumer-credentials.js';

/** What a consumer's accepted handshake established. */
export interface ConsumerAuthorization {
  readonly socketId: string;
  readonly clientId: string;
  readonly groups: readonly string[];
  readonly remoteAddress: string;
  /** Where it says it stopped, when it asks to recover what it missed. */
  readonly recovery?: HandshakeRecovery;
}

/**
 * Admits a consumer to `/ws/publish`: rate-limits its address, checks its
 * token, asks the connect handler if one is installed (ConnectGate), and
 * claims its one live connection, all before the upgrade completes.
 * An address over its limit has its next connections shed at accept until
 * its allowance refills (see ConnectionShedding).
 */
@Injectable()
export class ConsumerHandshakeGuard implements UpgradeGuard<ConsumerAuthorization> {
  private readonly logger = new Logger(ConsumerHandshakeGuard.name);
  private readonly limiter: RateLimiter;

  constructor(
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    private readonly tokens: ConsumerTokenService,
    private readonly liveSockets: LiveSocketService,
    private readonly metrics: GatewayMetrics,
    private readonly alerts: AlertService,
    private readonly refusals: HandshakeRefusals,
    private readonly shedding: ConnectionShedding,
    private readonly gate: ConnectGate,
  ) {
    this.limiter = new RateLimiter(config.handshakeRatePerSecond, config.handshakeBurst);
  }

  async authorize(request: IncomingMessage): Promise<ConsumerAuthorization> {
    const remoteAddress = resolveClientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], this.config.trustProxy);
    try {
      const authorization = await this.admit(request, remoteAddress);
      this.metrics.handshakes.inc({ outcome: 'accepted' });
      return authorization;
    } catch (error) {
      const refusal = this.toRefusal(error);
      this.refusals.refused(refusal.status, refusal.code, remoteAddress, readHandshakeCredentials(request.headers).clientId);
      throw refusal;
    }
  }

  async abandon(authorization: ConsumerAuthorization): Promise<void> {
    await this.liveSockets.release(authorization.clientId, authorization.socketId);
  }

  private async admit(request: IncomingMessage, remoteAddress: string): Promise<ConsumerAuthorization> {
    if (!this.limiter.tryTake(remoteAddress)) {
      // the address is shed at accept only if it is the TCP peer, not one forwarded by a proxy
      if (remoteAddress === normalizeAddress(request.socket.remoteAddress ?? '')) {
        this.shedding.shed(remoteAddress, this.limiter.msUntilAllowed(remoteAddress));
      }
      throw new HandshakeRefusedError(429, 'too many handshakes from this address', {
        'Retry-After': String(this.limiter.retryAfterSeconds()),
      });
    }
    const credentials = readHandshakeCredentials(request.headers);
    if (credentials.missingSubprotocol) {
      throw new HandshakeRefusedError(400, `browsers must offer the ${CONSUMER_SUBPROTOCOL} subprotocol with their credentials`);
    }
    let recovery: HandshakeRecovery | undefined;
    try {
      recovery = readHandshakeRecovery(request.headers, request.url);
    } catch (error) {
      if (error instanceof BadRecoveryPositionError) throw new HandshakeRefusedError(400, error.message);
      throw error;
    }
    const named = readHandshakeGroups(request.headers, request.url);
    const requestedGroups = named.length === 0 ? named : [...new Set(named)];
    const badGroup = requestedGroups.find((group) => !GROUP_PATTERN.test(group));
    if (badGroup !== undefined || requestedGroups.length > MAX_GROUPS) {
      throw new HandshakeRefusedError(400, `groups must be at most ${MAX_GROUPS} names matching ${GROUP_PATTERN.source}`);
    }
    const socketId = randomUUID();
    // Nothing to decide between the token check and the claim (no groups asked for, no connect handler):
    // a token not in the cache is checked in the claim's own statement, one round trip instead of two.
    const claimAtOnce = requestedGroups.length === 0 && !this.gate.active;
    let claimed: boolean | undefined;
    const consumer = await this.tokens.authenticate(
      credentials.clientId,
      credentials.token,
      claimAtOnce
        ? async (clientId, tokenHash) => {
            const result = await this.liveSockets.claimWithToken(clientId, socketId, tokenHash);
            claimed = result.won;
            return result.credentials;
          }
        : undefined,
    );
    // groups named in the handshake replace the defaults, and each must be granted
    const refused = consumer.grants.firstRefused(requestedGroups);
    if (refused !== undefined) {
      throw new HandshakeRefusedError(403, `group "${refused}" is not granted to client "${consumer.clientId}"`);
    }
    let groups = requestedGroups.length > 0 ? requestedGroups : consumer.defaultGroups;
    // the connect handler is asked before the claim: a consumer it refuses, or one it keeps waiting, holds no connection
    if (this.gate.active) {
      const decision = await this.gate.decide({
        socketId,
        path: CONSUMER_PATH,
        clientId: consumer.clientId,
        remoteAddress,
        requestedGroups,
        groups: [...groups],
      });
      if (decision.groups !== undefined) {
        groups = [...new Set(decision.groups)];
        const bad = groups.find((group) => !GROUP_PATTERN.test(group) || !consumer.grants.allows(group));
        if (bad !== undefined || groups.length > MAX_GROUPS) {
          throw new HandshakeRefusedError(
            403,
            bad !== undefined
              ? `the connect handler set group "${bad.slice(0, 100)}", which is not granted to client "${consumer.clientId}"`
              : `the connect handler set more than ${MAX_GROUPS} groups`,
          );
        }
      }
    }
    claimed ??= await this.liveSockets.claim(consumer.clientId, socketId);
    if (!claimed) {
      throw new HandshakeRefusedError(409, 'this client already has an open connection');
    }
    return { socketId, clientId: consumer.clientId, groups, remoteAddress, recovery };
  }

  private toRefusal(error: unknown): HandshakeRefusedError {
    if (error instanceof HandshakeRefusedError) return error;
    if (error instanceof TokenRejectedError) return new HandshakeRefusedError(401, error.message);
    if (error instanceof ConnectVetoedError) return new HandshakeRefusedError(403, error.message);
    if (error instanceof ConnectHandlerFailedError) {
      return new HandshakeRefusedError(503, error.message, { 'Retry-After': String(error.retryAfterSeconds) });
    }
    if (error instanceof InstanceStoppingError) return new HandshakeRefusedError(503, error.message, { 'Retry-After': '1' });
    if (isDatabaseUnavailable(error)) {
      return new HandshakeRefusedError(503, 'the database is unavailable; try again shortly', { 'Retry-After': '5' });
    }
    this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    this.alerts.raise({
      kind: 'internal_error',
      severity: 'error',
      subject: 'internal errors',
      details: { where: 'consumer handshake', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) },
    });
    return new HandshakeRefusedError(500, 'internal error');
  }
}
