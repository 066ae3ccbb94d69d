/** An address or a client id has used up its registration attempts for now. */
export class TooManyRegistrationsError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many registration attempts; retry later');
    this.name = 'TooManyRegistrationsError';
  }
}
