import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { resolveClientAddress } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';

/** Lets only callers inside ENTITY_ALLOWED_CIDRS publish, as resolved through TRUST_PROXY. */
@Injectable()
export class AllowedPublisherGuard implements CanActivate {
  constructor(@Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const address = resolveClientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], this.config.trustProxy);
    if (!this.config.entityAllowedCidrs.contains(address)) {
      throw new ForbiddenException(`${address} may not publish entities`);
    }
    return true;
  }
}
