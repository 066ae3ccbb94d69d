import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { resolveClientAddress } from '@app/platform';
import type { ExperienceConfig } from '../config/experience.config.js';
import { EXPERIENCE_CONFIG } from '../config/experience-config.token.js';

/** Lets only callers inside ENTITY_ALLOWED_CIDRS publish, as resolved through TRUST_PROXY. */
@Injectable()
export class AllowedPublisherGuard implements CanActivate {
  constructor(@Inject(EXPERIENCE_CONFIG) private readonly config: ExperienceConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const address = resolveClientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], this.config.trustProxy);
    if (!this.config.entityAllowedCidrs.contains(address)) {
      throw new ForbiddenException(`${address} may not publish entities`);
    }
    return true;
  }
}
