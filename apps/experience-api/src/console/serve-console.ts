import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type Request, type Response } from 'express';

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The console's page may load only its own files and talk only to this
 * gateway (its admin API and, for the test consumer, `/ws/publish`): no inline
 * script or style, no other origin, no framing, no forms, no plugins.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The built console (`npm run build` writes it to dist/console): the first dist/console above this file. */
export function findConsoleFolder(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let folder = from; ; folder = dirname(folder)) {
    const candidate = join(folder, 'dist', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(folder) === folder) return undefined;
  }
}

function securityHeaders(response: Response): void {
  response.setHeader('Content-Security-Policy', CONSOLE_CSP);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/**
 * Serves the operator console at `/console`: its page and the hashed files
 * Vite built, all from this app (no CDN), with a strict Content-Security-Policy.
 * The page asks for the admin token and keeps it in memory; every call it makes
 * goes to the admin API, which checks the token. Not built: `/console` says how.
 */
export function serveConsole(app: INestApplication, folder = findConsoleFolder()): void {
  const express_ = app as NestExpressApplication;
  if (folder === undefined) {
    new Logger('Console').warn(`the operator console is not built (run npm run build): ${CONSOLE_PATH} answers 404`);
    express_.use(CONSOLE_PATH, (_request: Request, response: Response) => {
      response.status(404).json({ error: 'not_found', message: 'the operator console is not built: run npm run build' });
    });
    return;
  }
  const root = resolve(folder);
  const page = join(root, 'index.html');
  const files = express.static(root, {
    index: false,
    redirect: false,
    fallthrough: true,
    setHeaders(response, path) {
      securityHeaders(response);
      // Vite names what it builds after its content: a new build is a new name
      response.setHeader('Cache-Control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  express_.use(CONSOLE_PATH, (request: Request, response: Response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.status(404).json({ error: 'not_found', message: `Cannot ${request.method} ${request.originalUrl}` });
      return;
    }
    if (request.path === '/' || request.path === '/index.html') {
      // `/console` and `/console/` are the page; its files are named relative to `/console/`
      if (request.originalUrl === CONSOLE_PATH) {
        response.redirect(301, `${CONSOLE_PATH}/`);
        return;
      }
      securityHeaders(response);
      response.setHeader('Cache-Control', 'no-cache');
      response.sendFile(page);
      return;
    }
    files(request, response, () => response.status(404).json({ error: 'not_found', message: `Cannot GET ${request.originalUrl}` }));
  });
}
