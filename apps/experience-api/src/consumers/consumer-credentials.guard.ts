import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { RateLimiter, resolveClientAddress } from '@app/platform';
import { CLIENT_ID_PATTERN, type ClientEntity, ClientService, InvalidClientCredentialsError } from '@app/token-store';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { readClientCredentials } from './client-credentials.js';
import { TooManyRegistrationsError } from './too-many-registrations.error.js';

const VERIFIED_CLIENT = Symbol('verified client');

/** The client whose credentials ConsumerCredentialsGuard verified for this request. */
export function verifiedClientOf(request: Request): ClientEntity {
  return (request as Request & { [VERIFIED_CLIENT]: ClientEntity })[VERIFIED_CLIENT];
}

/**
 * Checks client credentials before anything reads the body: each address and
 * each client id gets a bounded number of attempts (429 with Retry-After
 * beyond them), so that guessing secrets, each guess costing a slow hash,
 * cannot crowd out real registrations.
 */
@Injectable()
export class ConsumerCredentialsGuard implements CanActivate {
  private readonly perAddress: RateLimiter;
  private readonly perClient: RateLimiter;

  constructor(
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    private readonly clients: ClientService,
  ) {
    this.perAddress = new RateLimiter(config.registrationRatePerMinute / 60, config.registrationBurst);
    this.perClient = new RateLimiter(config.registrationClientRatePerMinute / 60, config.registrationClientBurst);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const address = resolveClientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], this.config.trustProxy);
    if (!this.perAddress.tryTake(address)) throw new TooManyRegistrationsError(this.perAddress.retryAfterSeconds(address));
    const credentials = readClientCredentials(request.headers);
    if (!credentials) throw new InvalidClientCredentialsError();
    // an id no client can have is refused by the check itself, and takes no room in the table
    if (CLIENT_ID_PATTERN.test(credentials.clientId) && !this.perClient.tryTake(credentials.clientId)) {
      throw new TooManyRegistrationsError(this.perClient.retryAfterSeconds(credentials.clientId));
    }
    const client = await this.clients.verifyCredentials(credentials.clientId, credentials.clientSecret);
    Object.defineProperty(request, VERIFIED_CLIENT, { value: client });
    return true;
  }
}
