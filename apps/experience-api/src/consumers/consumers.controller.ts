import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ConsumerTokenService } from '@app/token-store';
import { ConsumerCredentialsGuard, verifiedClientOf } from './consumer-credentials.guard.js';
import {
  ApiErrors,
  BODY_NOT_JSON,
  BODY_REFUSED,
  bodyTooLarge,
  CLIENT_BASIC_SCHEME,
  CLIENT_ID_SCHEME,
  CLIENT_SECRET_SCHEME,
  DATABASE_UNAVAILABLE,
} from '../http/api-docs.js';
import { RegisterConsumerDto } from './register-consumer.dto.js';
import { RegistrationAnswer } from './registration.answer.js';

@Controller('consumers')
@UseGuards(ConsumerCredentialsGuard)
@ApiTags('consumers')
export class ConsumersController {
  constructor(private readonly tokens: ConsumerTokenService) {}

  /** Exchanges client credentials (checked by the guard) for a consumer token, rotating any earlier one. */
  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Register a consumer',
    description:
      'Exchanges client credentials for a consumer token. Registering again issues a new token and the previous one stops working. Credentials: the headers `client_id` and `client_secret` (both non-empty; they win when both are present), or HTTP Basic. The body is optional.',
  })
  // either form of the credentials: both headers, or Basic
  @ApiSecurity({ [CLIENT_ID_SCHEME]: [], [CLIENT_SECRET_SCHEME]: [] })
  @ApiSecurity(CLIENT_BASIC_SCHEME)
  @ApiBody({ type: RegisterConsumerDto, required: false })
  @ApiCreatedResponse({ description: 'The consumer token.', type: RegistrationAnswer })
  @ApiErrors({
    400: BODY_REFUSED,
    401: 'Missing, incomplete or wrong credentials, an unknown client or a malformed id: all `invalid client credentials`, at the same cost.',
    403: 'A group not granted to the client (`group "x" is not granted to client "acme"`); no token is issued.',
    413: bodyTooLarge('8 KiB'),
    415: BODY_NOT_JSON,
    429: {
      description: 'Too many attempts from this address or for this `client_id`, counted before the credentials are checked, right or wrong.',
      retryAfter: true,
    },
    503: DATABASE_UNAVAILABLE,
  })
  async register(@Req() request: Request, @Body() body: RegisterConsumerDto): Promise<object> {
    const groups = body.groups && [...new Set(body.groups)];
    const issued = await this.tokens.issue(verifiedClientOf(request), groups);
    return { client_id: issued.clientId, token: issued.token, token_type: 'Bearer', expires_at: issued.expiresAt.toISOString() };
  }
}
