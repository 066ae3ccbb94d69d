import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { ConsumerTokenService, InvalidClientCredentialsError } from '@app/token-store';
import { readClientCredentials } from './client-credentials.js';
import { RegisterConsumerDto } from './register-consumer.dto.js';

@Controller('consumers')
export class ConsumersController {
  constructor(private readonly tokens: ConsumerTokenService) {}

  /** Exchanges client credentials for a consumer token, rotating any earlier one. */
  @Post()
  @HttpCode(201)
  async register(@Headers() headers: IncomingHttpHeaders, @Body() body: RegisterConsumerDto = {}): Promise<object> {
    const credentials = readClientCredentials(headers);
    if (!credentials) throw new InvalidClientCredentialsError();
    const issued = await this.tokens.register(credentials.clientId, credentials.clientSecret, body.groups);
    return { client_id: issued.clientId, token: issued.token, token_type: 'Bearer', expires_at: issued.expiresAt.toISOString() };
  }
}
