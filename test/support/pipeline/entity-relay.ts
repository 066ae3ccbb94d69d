import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the relay answers for one attempt instead of passing it on; undefined: experience-api answers. */
export type EntityFault = { readonly status: number; readonly body: unknown } | undefined;

/** Faults that experience-api answers for a whole `POST /entities` request, not for one of its items. */
const WHOLE_REQUEST = new Set([403, 404, 408, 429, 502, 503, 504]);

/** One item offered through the relay (alone on POST /entity, or in a POST /entities), in the order they came, with the answer it got. */
export interface EntityAttempt {
  readonly id: string;
  readonly status: number;
}

/**
 * An HTTP relay in front of a real experience-api that answers chosen items
 * itself (a 500 for one id, a 400 for another), the way experience-api fails
 * on one item while it serves the others. Everything else is passed on, and
 * every attempt is recorded in order. Both `POST /entity` and `POST /entities`
 * (where each item gets its own answer, as experience-api gives it).
 */
export class EntityRelay {
  readonly attempts: EntityAttempt[] = [];
  private server?: Server;
  port = 0;

  constructor(
    private readonly target: string,
    public fault: (id: string, attempt: number) => EntityFault = () => undefined,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Attempts seen for one id. */
  attemptsFor(id: string): EntityAttempt[] {
    return this.attempts.filter((attempt) => attempt.id === id);
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const answer = request.url === '/entities' ? this.bulk(body) : this.single(body);
        answer.then(({ status, text }) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(text)).catch(() => response.destroy());
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** `POST /entity`: the fault for its id, or experience-api's answer. */
  private async single(body: Buffer): Promise<{ status: number; text: string }> {
    const id = String((JSON.parse(body.toString()) as { id?: unknown }).id);
    const fault = this.fault(id, this.attemptsFor(id).length + 1);
    if (fault) {
      this.attempts.push({ id, status: fault.status });
      return { status: fault.status, text: JSON.stringify(fault.body) };
    }
    const answer = await this.pass('/entity', body);
    this.attempts.push({ id, status: answer.status });
    return answer;
  }

  /**
   * `POST /entities`, as experience-api answers it: a fault for any item that
   * says experience-api is away or busy (408, 429, 502, 503, 504, 403, 404)
   * answers the whole request; any other fault is that item's result, and
   * after a 5xx one the later items are not tried (503), as experience-api
   * does; the other items go to experience-api together.
   */
  private async bulk(body: Buffer): Promise<{ status: number; text: string }> {
    const items = JSON.parse(body.toString()) as Array<{ id?: unknown }>;
    const ids = items.map((item) => String(item.id));
    const faults = ids.map((id) => this.fault(id, this.attemptsFor(id).length + 1));
    const whole = faults.find((fault) => fault !== undefined && WHOLE_REQUEST.has(fault.status));
    if (whole) {
      for (const id of ids) this.attempts.push({ id, status: whole.status });
      return { status: whole.status, text: JSON.stringify(whole.body) };
    }
    const failed = faults.findIndex((fault) => fault !== undefined && fault.status >= 500);
    const passed = items.filter((_, i) => faults[i] === undefined && (failed < 0 || i < failed));
    let passedResults: Array<{ seq?: number; duplicate?: boolean; status?: number }> = [];
    if (passed.length > 0) {
      const answer = await this.pass('/entities', Buffer.from(JSON.stringify(passed)));
      if (answer.status !== 200) {
        for (const id of ids) this.attempts.push({ id, status: answer.status });
        return answer;
      }
      passedResults = (JSON.parse(answer.text) as { results: typeof passedResults }).results;
    }
    let next = 0;
    const results = items.map((_, i): { seq?: number; duplicate?: boolean; status?: number; error?: string; message?: string } => {
      const fault = faults[i];
      if (fault) return { ...(fault.body as object), status: fault.status };
      if (failed >= 0 && i > failed)
        return { error: 'service_unavailable', message: `not published: the entity at index ${failed} failed before it`, status: 503 };
      return passedResults[next++];
    });
    results.forEach((result, i) => this.attempts.push({ id: ids[i], status: result.status ?? (result.duplicate ? 200 : 202) }));
    return { status: 200, text: JSON.stringify({ results }) };
  }

  private async pass(path: string, body: Buffer): Promise<{ status: number; text: string }> {
    const answer = await fetch(`${this.target}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    return { status: answer.status, text: await answer.text() };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve) ?? resolve(undefined));
  }
}
