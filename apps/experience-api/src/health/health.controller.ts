import { Controller, Get, Header, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DatabaseHealth } from '@app/database';
import { RedisConnection } from '../cluster/redis-connection.js';
import { HealthAnswer } from './health.answer.js';

type Check = { readonly status: 'up' } | { readonly status: 'down'; readonly message: string };

@Controller('health')
@ApiTags('operations')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    /** Present in a cluster (REDIS_URL). */
    @Optional() private readonly redis?: RedisConnection,
  ) {}

  /** 200 when the app, its database and (in a cluster) Redis answer; 503 naming each part that does not. */
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Health',
    description: 'No auth. Probes the database (with a 2-second deadline) and, in a cluster, Redis. `Cache-Control: no-store`.',
  })
  @ApiOkResponse({ description: 'Every part answers (`status: ok`).', type: HealthAnswer })
  @ApiServiceUnavailableResponse({ description: 'A part does not answer (`status: error`): every part that failed is named.', type: HealthAnswer })
  async check(@Res() response: Response): Promise<void> {
    const [database, redis] = await Promise.all([this.checkDatabase(), this.redis && this.checkRedis(this.redis)]);
    const checks: Record<string, Check> = { database, ...(redis && { redis }) };
    const up = Object.values(checks).every((check) => check.status === 'up');
    response.status(up ? 200 : 503).json({ status: up ? 'ok' : 'error', checks });
  }

  private async checkDatabase(): Promise<Check> {
    const database = await this.database.check();
    return database.up ? { status: 'up' } : { status: 'down', message: database.message ?? 'unreachable' };
  }

  private async checkRedis(redis: RedisConnection): Promise<Check> {
    if (!redis.isReachable) return { status: 'down', message: `Redis unreachable: ${redis.problem}` };
    try {
      await redis.ping();
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', message: `Redis unreachable: ${(error as Error).message}` };
    }
  }
}
