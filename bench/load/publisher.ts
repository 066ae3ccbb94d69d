import { Agent, request } from 'node:http';

/** The entity's `data`: the send time the consumers read back (to the microsecond), padded to about `size` bytes. */
export function entityBody(id: string, sentAt: number, pad: string): string {
  return `{"id":"${id}","data":{"t":${sentAt},"pad":"${pad}"}}`;
}

/** A pad that makes the entity's `data` about `bytes` long. */
export function padFor(bytes: number): string {
  return 'x'.repeat(Math.max(0, bytes - '{"t":1234567.890,"pad":""}'.length));
}

/** POSTs entities over kept-alive connections, at most `maxInFlight` at a time. */
export class Publisher {
  private readonly agent: Agent;

  constructor(
    private readonly host: string,
    private readonly port: number,
    maxInFlight: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  }

  /** Resolves with the HTTP status; 0 when the request failed without an answer. */
  post(body: string): Promise<number> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method: 'POST',
          path: '/entity',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', () => resolve(0));
        },
      );
      req.on('error', () => resolve(0));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
