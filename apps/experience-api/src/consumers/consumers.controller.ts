import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { ConsumerTokenService } from '@app/token-store';
import { ConsumerCredentialsGuard, verifiedClientOf } from './consumer-credentials.guard.js';
import { RegisterConsumerDto } from './register-consumer.dto.js';

@Controller('consumers')
@UseGuards(ConsumerCredentialsGuard)
export class ConsumersController {
  constructor(private readonly tokens: ConsumerTokenService) {}

  /** Exchanges client credentials (checked by the guard) for a consumer token, rotating any earlier one. */
  @Post()
  @HttpCode(201)
  async register(@Req() request: Request, @Body() body: RegisterConsumerDto): Promise<object> {
    const groups = body.groups && [...new Set(body.groups)];
    const issued = await this.tokens.issue(verifiedClientOf(request), groups);
    return { client_id: issued.clientId, token: issued.token, token_type: 'Bearer', expires_at: issued.expiresAt.toISOString() };
  }
}
