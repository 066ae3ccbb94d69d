import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type ApiErrorBody, errorCode } from './api-error.js';

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\s*(;|$)/i;

function reject(response: Response, status: number, message: string): void {
  const body: ApiErrorBody = { error: errorCode(status), message };
  response.status(status).json(body);
}

/**
 * Parses JSON request bodies up to `limit` bytes and answers every way a body
 * can be wrong with a clear `{error, message}`: 415 for another content type,
 * 413 when too large, 400 when malformed or not a JSON object. Bodies are
 * parsed here rather than by Nest's default parser so that these errors never
 * fall through to Express's HTML error page.
 */
export function jsonBody(limit: number): RequestHandler {
  const parse = express.json({ limit, strict: true, type: () => true });
  return (request: Request, response: Response, next: NextFunction) => {
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return next();
    if (!JSON_TYPE.test(request.headers['content-type'] ?? '')) {
      return reject(response, 415, 'request bodies must be JSON (Content-Type: application/json)');
    }
    parse(request, response, (error?: { status?: number; type?: string; message?: string }) => {
      if (error) {
        if (error.type === 'entity.too.large') return reject(response, 413, `request body is larger than ${limit} bytes`);
        if (error.type === 'entity.parse.failed') return reject(response, 400, 'request body is not valid JSON');
        return reject(response, error.status && error.status < 500 ? error.status : 400, error.message ?? 'unreadable request body');
      }
      const body: unknown = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return reject(response, 400, 'request body must be a JSON object');
      }
      next();
    });
  };
}
