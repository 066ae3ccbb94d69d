import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { type ApiErrorBody, errorCode } from './api-error.js';

const JSON_TYPE = /^application\/([\w.+-]*\+)?json\s*(;|$)/i;

/** A route's own body limit: `path` and everything under it. */
export interface BodyLimit {
  readonly path: string;
  readonly bytes: number;
}

function reject(response: Response, status: number, message: string): void {
  const body: ApiErrorBody = { error: errorCode(status), message };
  response.status(status).json(body);
}

/**
 * Reads JSON request bodies as bytes, each route up to its own limit, and
 * answers 415 for another content type and 413 when too large. Bodies are
 * not parsed here: guards run first (credentials, allow-lists), and the
 * ApiBodyPipe parses and validates only what reaches a handler.
 */
export function jsonBody(limits: readonly BodyLimit[], fallbackBytes: number): RequestHandler {
  const readers = new Map<number, ReturnType<typeof express.raw>>();
  const readerFor = (bytes: number) => {
    let reader = readers.get(bytes);
    if (!reader) readers.set(bytes, (reader = express.raw({ limit: bytes, type: () => true })));
    return reader;
  };
  const limitOf = (path: string) => limits.find((limit) => path === limit.path || path.startsWith(`${limit.path}/`))?.bytes ?? fallbackBytes;
  return (request: Request, response: Response, next: NextFunction) => {
    const length = request.headers['content-length'];
    const hasBody = Number(length ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      request.body = undefined;
      return next();
    }
    if (!JSON_TYPE.test(request.headers['content-type'] ?? '')) {
      return reject(response, 415, 'request bodies must be JSON (Content-Type: application/json)');
    }
    const bytes = limitOf(request.path);
    const tooLarge = `request body is larger than ${bytes} bytes`;
    // the reader refuses a Content-Length over the limit before reading anything
    readerFor(bytes)(request, response, (error?: { status?: number; type?: string; message?: string }) => {
      if (!error) return next();
      if (error.type === 'entity.too.large') return reject(response, 413, tooLarge);
      return reject(response, error.status && error.status < 500 ? error.status : 400, error.message ?? 'unreadable request body');
    });
  };
}
