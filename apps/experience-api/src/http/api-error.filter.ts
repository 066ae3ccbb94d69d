import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AlertService } from '@app/alerting';
import { isDatabaseUnavailable } from '@app/database';
import { resolveClientAddress } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { RecentRefusals } from '../metrics/recent-refusals.js';
import { type ApiErrorBody, errorCode } from './api-error.js';

/** Domain errors and the status each is answered with; the message is the error's own. */
export type ErrorStatusTable = ReadonlyArray<readonly [abstract new (...args: never[]) => Error, HttpStatus]>;

/** Injection token of the ErrorStatusTable, which the composition root fills from the features' errors. */
export const ERROR_STATUSES = Symbol('ERROR_STATUSES');

/** An error that tells its caller when to try again (answered with `Retry-After`). */
function retryAfterOf(error: unknown): number | undefined {
  const seconds = (error as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds : undefined;
}

/** An error that names its own `error` code, more precise than its status's (`history_expired` rather than `gone`). */
function apiErrorCodeOf(error: unknown): string | undefined {
  const code = (error as { apiErrorCode?: unknown } | null)?.apiErrorCode;
  return typeof code === 'string' ? code : undefined;
}

/** What an error adds to its body beyond `error` and `message` (where to resume, say). */
function apiErrorFieldsOf(error: unknown): Record<string, unknown> | undefined {
  const fields = (error as { apiErrorFields?: unknown } | null)?.apiErrorFields;
  return typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : undefined;
}

/** Answers the operator console lists as refusals: wrong or missing credentials, a caller outside an allow-list, a flood. */
const REFUSALS = new Set([401, 403, 429]);

/**
 * Turns every error that reaches the edge into a status and an `{error, message}`
 * body; an error nobody anticipated is logged and alerted, and a refusal is
 * noted for the operator console.
 */
@Catch()
@Injectable()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiErrorFilter.name);

  constructor(
    private readonly alerts: AlertService,
    @Inject(ERROR_STATUSES) private readonly statuses: ErrorStatusTable,
    private readonly refusals: RecentRefusals,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const [status, body] = this.describe(exception, `${request.method} ${request.path}`);
    if (REFUSALS.has(status)) {
      const address = resolveClientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], this.config.trustProxy);
      this.refusals.add('http', `${request.method} ${request.path}`, status, body.error, address, undefined);
    }
    if (response.headersSent) return;
    const retryAfter = retryAfterOf(exception);
    if (retryAfter !== undefined) response.setHeader('Retry-After', String(retryAfter));
    response.status(status).json(body);
  }

  /**
   * The status and body an error is answered with; an error nobody
   * anticipated is logged and alerted. Also used for each element of an answer
   * that reports on several items (`POST /entities`).
   */
  describe(exception: unknown, where: string): [number, ApiErrorBody] {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      const message = typeof answer === 'object' && answer !== null && 'message' in answer ? [answer.message].flat().join('; ') : exception.message;
      return [status, { error: errorCode(status), message }];
    }
    const known = this.statuses.find(([type]) => exception instanceof type);
    if (known) {
      return [known[1], { error: apiErrorCodeOf(exception) ?? errorCode(known[1]), message: (exception as Error).message, ...apiErrorFieldsOf(exception) }];
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`request failed, database unavailable: ${(exception as Error).message}`);
      return [HttpStatus.SERVICE_UNAVAILABLE, { error: 'service_unavailable', message: 'the database is unavailable; try again shortly' }];
    }
    this.logger.error(`${where}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`);
    this.alerts.raise({
      kind: 'internal_error',
      severity: 'error',
      subject: 'internal errors',
      details: { where, error: exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception) },
    });
    return [HttpStatus.INTERNAL_SERVER_ERROR, { error: 'internal_server_error', message: 'internal error' }];
  }
}
