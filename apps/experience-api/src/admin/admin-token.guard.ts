import { type CanActivate, type ExecutionContext, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { secretsEqual } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';

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
