import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock } from '@app/platform';
import { type ConnectHandlerSettings, experienceConfig } from '../config/experience.config.js';
import {
  type ConnectDecision,
  ConnectGate,
  type ConnectHandler,
  ConnectHandlerFailedError,
  type ConnectRequest,
  ConnectVetoedError,
} from '../socket-events/connect-gate.js';
import { WebhookMetrics } from './webhook-metrics.js';
import { signedHeaders } from './webhook-signature.js';
import { describe, WebhookTransport } from './webhook-transport.js';

export const CONNECT_HANDLER_FAILING = { kind: 'webhook_connect_failing', subject: 'connect handler failing' } as const;
/** What a refused consumer is told to wait before it tries again, when the handler failed and the policy denies. */
const RETRY_AFTER_SECONDS = 5;
const MAX_REASON_LENGTH = 200;
const DEFAULT_VETO = 'the connect handler refused the connection';

/**
 * The connect handler (WEBHOOK_CONNECT_URL): asked, signed as every webhook,
 * during each consumer handshake, before the upgrade completes. A 2xx admits
 * the consumer, with the groups its JSON body names if it names any; 401 or
 * 403 refuses it with 403 and the body's `reason`. Anything else (another
 * status, no answer in WEBHOOK_CONNECT_TIMEOUT, a body that is not what the
 * contract says) is a failure, and WEBHOOK_CONNECT_FAILURE decides: `deny`
 * refuses with 503 and Retry-After, `allow` admits as if it said yes. A
 * failing handler raises `webhook_connect_failing` (folded), resolved when it
 * answers again.
 */
@Injectable()
export class ConnectWebhook implements ConnectHandler, OnModuleInit {
  private readonly logger = new Logger(ConnectWebhook.name);
  private readonly settings?: ConnectHandlerSettings;
  private failing = false;

  constructor(
    @Inject(experienceConfig.KEY) config: ConfigType<typeof experienceConfig>,
    private readonly gate: ConnectGate,
    private readonly transport: WebhookTransport,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly alerts: AlertService,
    private readonly metrics: WebhookMetrics,
  ) {
    this.settings = config.connectHandler;
  }

  onModuleInit(): void {
    if (!this.settings) return;
    this.gate.use(this);
    this.logger.log(
      `consumer handshakes ask the connect handler at ${describe(this.settings.url)} (timeout ${this.settings.timeoutMs} ms, on failure ${this.settings.failure})`,
    );
  }

  async decide(request: ConnectRequest): Promise<ConnectDecision> {
    const settings = this.settings;
    if (!settings) return {};
    const id = randomUUID();
    const body = JSON.stringify({
      event: 'connect',
      id,
      timestamp: new Date(this.clock.now()).toISOString(),
      data: {
        socket_id: request.socketId,
        path: request.path,
        client_id: request.clientId,
        remote_address: request.remoteAddress,
        requested_groups: [...request.requestedGroups],
        groups: [...request.groups],
      },
    });
    let status: number;
    let text: string;
    try {
      ({ status, body: text } = await this.transport.post(
        settings.url,
        signedHeaders(settings.secret, { id, event: 'connect' }, body, this.clock.now()),
        body,
        settings.timeoutMs,
      ));
    } catch (error) {
      return this.failed((error as Error).message, request, settings);
    }
    if (status === 401 || status === 403) {
      this.answered('vetoed');
      throw new ConnectVetoedError(vetoReason(text));
    }
    if (status < 200 || status >= 300) return this.failed(`answered ${status}`, request, settings);
    const groups = allowedGroups(text);
    if (groups === null) return this.failed('answered 2xx with a body that is not {"groups": [names]}', request, settings);
    this.answered('allowed');
    return groups === undefined ? {} : { groups };
  }

  private answered(outcome: 'allowed' | 'vetoed'): void {
    this.metrics.connectCalls.inc({ outcome });
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('the connect handler answers again');
    this.alerts.resolve(CONNECT_HANDLER_FAILING.kind, CONNECT_HANDLER_FAILING.subject);
  }

  private failed(failure: string, request: ConnectRequest, settings: ConnectHandlerSettings): ConnectDecision {
    this.metrics.connectCalls.inc({ outcome: 'failed' });
    if (!this.failing)
      this.logger.warn(`the connect handler failed (${failure}): consumers are ${settings.failure === 'deny' ? 'refused' : 'admitted'} while it does`);
    this.failing = true;
    this.alerts.raise({
      kind: CONNECT_HANDLER_FAILING.kind,
      severity: 'error',
      subject: CONNECT_HANDLER_FAILING.subject,
      details: { failure, policy: settings.failure, client_id: request.clientId, url: describe(settings.url) },
    });
    if (settings.failure === 'allow') return {};
    throw new ConnectHandlerFailedError('the connect handler is unavailable; try again shortly', RETRY_AFTER_SECONDS);
  }
}

/**
 * The groups of a yes: undefined when the body names none (empty, `{}`, no
 * `groups`), null when the body is not what the contract says.
 */
function allowedGroups(text: string): readonly string[] | undefined | null {
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const groups = (body as { groups?: unknown }).groups;
  if (groups === undefined || groups === null) return undefined;
  if (!Array.isArray(groups) || !groups.every((group) => typeof group === 'string')) return null;
  return [...new Set(groups)];
}

/** The `reason` of a JSON body, or the body's text; printable, and short enough for a refusal. */
function vetoReason(text: string): string {
  let reason = text;
  try {
    const body = JSON.parse(text) as { reason?: unknown };
    reason = typeof body?.reason === 'string' ? body.reason : '';
  } catch {
    // plain text
  }
  // eslint-disable-next-line no-control-regex
  reason = reason.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return reason === '' ? DEFAULT_VETO : reason.slice(0, MAX_REASON_LENGTH);
}
