import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the relay answers for one attempt instead of passing it on; undefined: experience-api answers. */
export type EntityFault = { readonly status: number; readonly body: unknown } | undefined;

/** One POST /entity that went through the relay, in the order they came. */
export interface EntityAttempt {
  readonly id: string;
  readonly status: number;
}

/**
 * An HTTP relay in front of a real experience-api that answers chosen items
 * itself (a 500 for one id, a 400 for another), the way experience-api fails
 * on one item while it serves the others. Everything else is passed on, and
 * every attempt is recorded in order.
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
        const id = String((JSON.parse(body.toString()) as { id?: unknown }).id);
        const fault = this.fault(id, this.attemptsFor(id).length + 1);
        if (fault) {
          this.attempts.push({ id, status: fault.status });
          response.writeHead(fault.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(fault.body));
          return;
        }
        fetch(`${this.target}${request.url}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
          .then(async (answer) => {
            this.attempts.push({ id, status: answer.status });
            response.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
          })
          .catch(() => response.destroy());
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve) ?? resolve(undefined));
  }
}
