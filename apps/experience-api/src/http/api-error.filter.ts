import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AlertService } from '@app/alerting';
import { isDatabaseUnavailable } from '@app/database';
import {
  ClientAlreadyExistsError,
  ClientNotFoundError,
  GroupNotGrantedError,
  InvalidClientCredentialsError,
} from '@app/token-store';
import { TooManyRegistrationsError } from '../consumers/too-many-registrations.error.js';
import { InvalidEntityError, PublisherBusyError } from '../publishing/entity-publisher.service.js';
import { type ApiErrorBody, errorCode } from './api-error.js';

/** Domain errors and the status each is answered with; the message is the error's own. */
const STATUS_OF: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, HttpStatus]> = [
  [InvalidClientCredentialsError, HttpStatus.UNAUTHORIZED],
  [GroupNotGrantedError, HttpStatus.FORBIDDEN],
  [ClientNotFoundError, HttpStatus.NOT_FOUND],
  [ClientAlreadyExistsError, HttpStatus.CONFLICT],
  [InvalidEntityError, HttpStatus.BAD_REQUEST],
  [TooManyRegistrationsError, HttpStatus.TOO_MANY_REQUESTS],
  [PublisherBusyError, HttpStatus.SERVICE_UNAVAILABLE],
];

/**
 * Turns every error that reaches the edge into a status and an `{error, message}`
 * body; an error nobody anticipated is logged and alerted.
 */
@Catch()
@Injectable()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiErrorFilter.name);

  constructor(private readonly alerts: AlertService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    const [status, body] = this.describe(exception, `${request.method} ${request.path}`);
    if (response.headersSent) return;
    if (exception instanceof TooManyRegistrationsError) response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    response.status(status).json(body);
  }

  private describe(exception: unknown, where: string): [number, ApiErrorBody] {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      const message =
        typeof answer === 'object' && answer !== null && 'message' in answer
          ? [answer.message].flat().join('; ')
          : exception.message;
      return [status, { error: errorCode(status), message }];
    }
    const known = STATUS_OF.find(([type]) => exception instanceof type);
    if (known) return [known[1], { error: errorCode(known[1]), message: (exception as Error).message }];
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
