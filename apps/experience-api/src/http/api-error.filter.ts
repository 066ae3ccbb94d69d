import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isDatabaseUnavailable } from '@app/database';
import {
  ClientAlreadyExistsError,
  ClientNotFoundError,
  InvalidClientCredentialsError,
} from '@app/token-store';
import { PublisherBusyError } from '../publishing/entity-publisher.service.js';
import { type ApiErrorBody, errorCode } from './api-error.js';

/** Turns every error that reaches the edge into a status and an `{error, message}` body. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ApiErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.describe(exception);
    if (response.headersSent) return;
    response.status(status).json(body);
  }

  private describe(exception: unknown): [number, ApiErrorBody] {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      const message =
        typeof answer === 'object' && answer !== null && 'message' in answer
          ? [answer.message].flat().join('; ')
          : exception.message;
      return [status, { error: errorCode(status), message }];
    }
    if (exception instanceof InvalidClientCredentialsError) {
      return [HttpStatus.UNAUTHORIZED, { error: 'unauthorized', message: exception.message }];
    }
    if (exception instanceof ClientAlreadyExistsError) {
      return [HttpStatus.CONFLICT, { error: 'conflict', message: exception.message }];
    }
    if (exception instanceof ClientNotFoundError) {
      return [HttpStatus.NOT_FOUND, { error: 'not_found', message: exception.message }];
    }
    if (exception instanceof PublisherBusyError) {
      return [HttpStatus.SERVICE_UNAVAILABLE, { error: 'service_unavailable', message: exception.message }];
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`request failed, database unavailable: ${(exception as Error).message}`);
      return [HttpStatus.SERVICE_UNAVAILABLE, { error: 'service_unavailable', message: 'the database is unavailable; try again shortly' }];
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return [HttpStatus.INTERNAL_SERVER_ERROR, { error: 'internal_server_error', message: 'internal error' }];
  }
}
