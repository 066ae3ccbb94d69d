import type { Expression } from 'jsonata';
import { compileExpression } from '../item-mapper.js';
import { type ItemSink, type PolledSource, SourceUnavailableError } from '../source.js';
import type { HttpSourceDefinition } from '../source-definition.js';

interface HttpCursor {
  readonly etag?: string;
}

/**
 * Polls a URL for a JSON answer and stores the items in it. When the server
 * offers an `ETag`, the next poll is conditional and a `304` costs nothing.
 */
export class HttpSource implements PolledSource {
  readonly mode = 'polled';
  private readonly items?: Expression;

  constructor(
    private readonly definition: HttpSourceDefinition,
    private readonly env: Readonly<Record<string, string | undefined>>,
  ) {
    this.items = definition.items ? compileExpression('items', definition.items) : undefined;
  }

  async poll(sink: ItemSink, cursor: unknown): Promise<void> {
    const etag = (cursor as HttpCursor | undefined)?.etag;
    let response: Response;
    try {
      response = await fetch(this.definition.url, {
        method: this.definition.method,
        headers: { Accept: 'application/json', ...this.definition.headers, ...this.authorization(), ...(etag ? { 'If-None-Match': etag } : {}) },
        signal: AbortSignal.timeout(this.definition.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new SourceUnavailableError(`${this.definition.url.origin}: ${cause ?? (error as Error).message}`);
    }
    if (response.status === 304) return;
    const text = await response.text();
    if (!response.ok) throw new SourceUnavailableError(`${this.definition.url.origin} answered ${response.status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      await sink.reject(text.slice(0, 4_096), 'the answer is not JSON');
      return;
    }
    const selected = this.items ? await this.items.evaluate(body) : body;
    const list = selected === undefined ? [] : Array.isArray(selected) ? selected : [selected];
    const next = response.headers.get('etag');
    await sink.store(list, next ? { etag: next } : undefined);
  }

  async close(): Promise<void> {}

  private authorization(): Record<string, string> {
    const auth = this.definition.auth;
    if (!auth) return {};
    if ('bearerEnv' in auth) return { Authorization: `Bearer ${this.env[auth.bearerEnv]}` };
    const basic = Buffer.from(`${this.env[auth.basicUserEnv]}:${this.env[auth.basicPasswordEnv]}`).toString('base64');
    return { Authorization: `Basic ${basic}` };
  }
}
