import type { Expression } from 'jsonata';
import type { ItemSink } from '../../sink/item-sink.js';
import { compileExpression } from '../item-mapper.js';
import { type PolledSource, SourceRefusedError, SourceUnavailableError } from '../source.js';
import type { HttpSourceDefinition } from '../source-definition.js';

interface HttpCursor {
  readonly etag?: string;
}

/** `16MiB` rather than 16777216, for messages. */
function size(bytes: number): string {
  for (const [unit, factor] of [
    ['GiB', 1_073_741_824],
    ['MiB', 1_048_576],
    ['KiB', 1_024],
  ] as const) {
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes} bytes`;
}

/**
 * Polls a URL for a JSON answer and stores the items in it. When the server
 * offers an `ETag`, the next poll is conditional and a `304` costs nothing.
 * The answer is read as a stream and dropped once over `max_body`; an answer
 * with more than `max_items` items is refused whole. Either way nothing of it
 * is stored and the ETag is not kept, so the next poll reads it again: taking
 * the first N would lose the rest for good, since the next answer is the same.
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
    if (response.status === 304 || !response.ok) {
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 304) return;
      throw new SourceUnavailableError(`${this.definition.url.origin} answered ${response.status}`);
    }
    const text = await this.readCapped(response);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      await sink.setAside(text.slice(0, 4_096), 'the answer is not JSON');
      return;
    }
    const selected = this.items ? await this.items.evaluate(body) : body;
    const list = selected === undefined ? [] : Array.isArray(selected) ? selected : [selected];
    if (list.length > this.definition.maxItems) {
      throw new SourceRefusedError(`the answer holds ${list.length} items, more than max_items (${this.definition.maxItems}); nothing of it was stored`);
    }
    const next = response.headers.get('etag');
    await sink.store(list, next ? { etag: next } : undefined);
  }

  async close(): Promise<void> {}

  /** The body as text, read chunk by chunk and abandoned as soon as it is larger than `max_body`. */
  private async readCapped(response: Response): Promise<string> {
    const limit = this.definition.maxBodyBytes;
    const tooLarge = () => new SourceRefusedError(`the answer is larger than max_body (${size(limit)}); nothing of it was stored`);
    if (Number(response.headers.get('content-length') ?? 0) > limit) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > limit) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof SourceRefusedError) throw error;
      throw new SourceUnavailableError(`${this.definition.url.origin}: the answer broke off: ${(error as Error).message}`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  }

  private authorization(): Record<string, string> {
    const auth = this.definition.auth;
    if (!auth) return {};
    if ('bearerEnv' in auth) return { Authorization: `Bearer ${this.env[auth.bearerEnv]}` };
    const basic = Buffer.from(`${this.env[auth.basicUserEnv]}:${this.env[auth.basicPasswordEnv]}`).toString('base64');
    return { Authorization: `Basic ${basic}` };
  }
}
