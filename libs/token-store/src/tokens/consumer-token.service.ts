import { Inject, Injectable } from '@nestjs/common';
import { digestsEqual, randomCredential, sha256 } from '@app/platform';
import { ClientService } from '../clients/client.service.js';
import { CLIENT_ID_PATTERN, TOKEN_PATTERN } from '../identifiers.js';
import { TOKEN_STORE_OPTIONS, type TokenStoreOptions } from '../token-store.options.js';
import { TokenRejectedError } from '../token-store.errors.js';
import { ConsumerTokenRepository } from './consumer-token.repository.js';

export interface IssuedToken {
  readonly clientId: string;
  readonly token: string;
  readonly expiresAt: Date;
}

export interface AuthenticatedConsumer {
  readonly clientId: string;
  readonly defaultGroups: readonly string[];
}

@Injectable()
export class ConsumerTokenService {
  constructor(
    private readonly clients: ClientService,
    private readonly tokens: ConsumerTokenRepository,
    @Inject(TOKEN_STORE_OPTIONS) private readonly options: TokenStoreOptions,
  ) {}

  /**
   * Registers a consumer with its client credentials and issues a new token,
   * which replaces (rotates) any token the client had. Groups given here
   * become the client's default groups.
   */
  async register(clientId: string, clientSecret: string, groups?: readonly string[]): Promise<IssuedToken> {
    await this.clients.verifyCredentials(clientId, clientSecret);
    if (groups !== undefined) await this.clients.setDefaultGroups(clientId, groups);
    const token = randomCredential(32);
    const expiresAt = await this.tokens.replace(clientId, sha256(token), this.options.tokenIdleTtlMs);
    return { clientId, token, expiresAt };
  }

  /** Checks a token offered in a handshake; malformed input is refused before any database work. */
  async authenticate(clientId: string | undefined, token: string | undefined): Promise<AuthenticatedConsumer> {
    if (!clientId || !token) throw new TokenRejectedError('missing');
    if (!CLIENT_ID_PATTERN.test(clientId) || !TOKEN_PATTERN.test(token)) throw new TokenRejectedError('malformed');
    const stored = await this.tokens.findHandshakeCredentials(clientId, this.options.tokenIdleTtlMs);
    if (!stored) throw new TokenRejectedError('unknown');
    if (!digestsEqual(sha256(token), stored.tokenHash)) throw new TokenRejectedError('mismatch');
    if (stored.expired) throw new TokenRejectedError('expired');
    return { clientId, defaultGroups: stored.defaultGroups };
  }

  /** Restarts the token's idle clock: called when the consumer connects and when it leaves. */
  touch(clientId: string): Promise<void> {
    return this.tokens.touch(clientId);
  }
}
