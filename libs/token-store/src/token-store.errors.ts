export class ClientAlreadyExistsError extends Error {
  constructor(readonly clientId: string) {
    super(`client "${clientId}" already exists`);
    this.name = 'ClientAlreadyExistsError';
  }
}

export class ClientNotFoundError extends Error {
  constructor(readonly clientId: string) {
    super(`client "${clientId}" does not exist`);
    this.name = 'ClientNotFoundError';
  }
}

/** A group outside the client's grants was asked for. */
export class GroupNotGrantedError extends Error {
  constructor(
    readonly clientId: string,
    readonly group: string,
  ) {
    super(`group "${group}" is not granted to client "${clientId}"`);
    this.name = 'GroupNotGrantedError';
  }
}

/** Wrong or missing client credentials; deliberately silent about which part was wrong. */
export class InvalidClientCredentialsError extends Error {
  constructor() {
    super('invalid client credentials');
    this.name = 'InvalidClientCredentialsError';
  }
}

export type TokenRejection = 'missing' | 'malformed' | 'unknown' | 'mismatch' | 'expired';

/** A consumer token that does not open a connection; `reason` is for logs and metrics, not for the caller. */
export class TokenRejectedError extends Error {
  constructor(readonly reason: TokenRejection) {
    super('missing, unknown or expired token');
    this.name = 'TokenRejectedError';
  }
}

/** This instance is stopping and has released its live-socket claims: a consumer connects elsewhere. */
export class InstanceStoppingError extends Error {
  constructor() {
    super('this instance is stopping; connect again (to another instance)');
    this.name = 'InstanceStoppingError';
  }
}
