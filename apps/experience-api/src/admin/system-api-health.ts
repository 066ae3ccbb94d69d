import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { CLOCK, type Clock, readBoundedBody } from '@app/platform';
import { experienceConfig } from '../config/experience.config.js';

/** How long the console waits for system-api's health before it says system-api does not answer. */
const TIMEOUT_MS = 3_000;
/** A health answer names each source once: far less than this even for hundreds of sources. */
const MAX_ANSWER_BYTES = 262_144;

/** What the console shows of system-api: its `/health` answer as it is, or why there is none. */
export interface SystemApiView {
  /** SYSTEM_API_URL, without credentials; `null` when it is not set. */
  readonly url: string | null;
  /** Whether system-api answered with its health (a `503` answer is health too: its `status` is `error`). */
  readonly reachable: boolean;
  readonly health: unknown;
  /** Why there is no health: not configured, unreachable, a timeout, an answer that is not system-api's. */
  readonly error: string | null;
}

/**
 * Reads system-api's `GET /health` (sources and their state, outbox depth,
 * dead letters) for the operator console; the one outside connection of the
 * admin API. system-api's health needs no credentials, so none are sent.
 */
@Injectable()
export class SystemApiHealth {
  constructor(
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async read(): Promise<SystemApiView> {
    const base = this.config.systemApiUrl;
    if (base === undefined) return { url: null, reachable: false, health: null, error: 'SYSTEM_API_URL is not set' };
    const shown = new URL(base);
    shown.username = '';
    shown.password = '';
    const url = shown.toString().replace(/\/$/, '');
    const abort = new AbortController();
    const timer = this.clock.setTimer(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(new URL('health', `${url}/`), { redirect: 'manual', signal: abort.signal, headers: { Accept: 'application/json' } });
      const body = await readBoundedBody(response, MAX_ANSWER_BYTES);
      const health = body.complete ? parseHealth(body.text) : undefined;
      if (health === undefined) return { url, reachable: false, health: null, error: `system-api answered ${response.status} without its health` };
      return { url, reachable: true, health, error: null };
    } catch (error) {
      if (abort.signal.aborted) return { url, reachable: false, health: null, error: `no answer within ${TIMEOUT_MS} ms` };
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return { url, reachable: false, health: null, error: `unreachable (${cause?.code ?? cause?.message ?? (error as Error).message})` };
    } finally {
      this.clock.clearTimer(timer);
    }
  }
}

/** system-api's health is an object with a `status`; anything else (a proxy's page, another app) is not. */
function parseHealth(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && typeof (value as { status?: unknown }).status === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
