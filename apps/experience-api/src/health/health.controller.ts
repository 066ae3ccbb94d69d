import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DatabaseHealth } from '@app/database';

@Controller('health')
export class HealthController {
  constructor(private readonly database: DatabaseHealth) {}

  /** 200 when the app and its database answer; 503 naming the part that does not. */
  @Get()
  @Header('Cache-Control', 'no-store')
  async check(@Res() response: Response): Promise<void> {
    const database = await this.database.check();
    response.status(database.up ? 200 : 503).json({
      status: database.up ? 'ok' : 'error',
      checks: { database: database.up ? { status: 'up' } : { status: 'down', message: database.message } },
    });
  }
}
