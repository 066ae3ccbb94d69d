/**
 * Redis, which the instances of a cluster act as one through, cannot be
 * reached: what needs every instance (a publish, a socket operation) is
 * refused rather than done on this instance alone. Answered `503` with
 * `Retry-After`.
 */
export class ClusterUnavailableError extends Error {
  readonly retryAfterSeconds = 2;

  constructor(what: string, options?: ErrorOptions) {
    super(`${what}: the cluster bus (Redis) is unreachable; try again shortly`, options);
    this.name = 'ClusterUnavailableError';
  }
}
