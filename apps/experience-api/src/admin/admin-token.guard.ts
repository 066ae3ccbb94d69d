import { type CanActivate, type ExecutionContext, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { secretsEqual } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';
import { DATABASE_UNAVAILABLE } from '../http/api-docs.js';

/** What a `404` of an admin route may also mean, for the OpenAPI document. */
export const ADMIN_API_DISABLED =
  'the admin API is disabled (`NODE_ENV=production` and no `ADMIN_TOKEN`): every admin route answers `Cannot find this route`, token or not';

/** The answers every admin route may give besides its own (docs/api.md, "Admin API"), for the OpenAPI document. */
export const ADMIN_REFUSALS = {
  401: 'A missing or wrong admin token (`a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)`).',
  404: `The ${ADMIN_API_DISABLED.slice('the '.length)}.`,
  503: DATABASE_UNAVAILABLE,
} as const;

/**
 * `Authorization: Bearer $ADMIN_TOKEN`, compared in constant time. Without an
 * admin token (production with ADMIN_TOKEN unset) the admin API does not exist.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.adminToken;
    if (expected === undefined) throw new NotFoundException('Cannot find this route');
    const request = context.switchToHttp().getRequest<Request>();
    const given = request.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (given === undefined || !secretsEqual(given, expected)) {
      throw new UnauthorizedException('a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)');
    }
    return true;
  }
}
