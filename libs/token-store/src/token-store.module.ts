import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { ClientChanges, InProcessClientChanges } from './clients/client-changes.js';
import { ClientRepository } from './clients/client.repository.js';
import { ClientService } from './clients/client.service.js';
import { SecretHasher } from './clients/secret-hasher.js';
import { TypeOrmClientRepository } from './clients/typeorm-client.repository.js';
import { LiveSocketRepository } from './live-sockets/live-socket.repository.js';
import { LiveSocketService } from './live-sockets/live-socket.service.js';
import { TypeOrmLiveSocketRepository } from './live-sockets/typeorm-live-socket.repository.js';
import { TOKEN_STORE_OPTIONS, type TokenStoreOptions } from './token-store.options.js';
import { ConsumerTokenRepository } from './tokens/consumer-token.repository.js';
import { ConsumerTokenService } from './tokens/consumer-token.service.js';
import { TypeOrmConsumerTokenRepository } from './tokens/typeorm-consumer-token.repository.js';

/**
 * Clients, consumer tokens and live sockets. Needs a DataSource from
 * DatabaseModule. `changes`: how changes to a client's credentials reach
 * what caches them; within this instance unless the app spans several.
 */
@Module({})
export class TokenStoreModule {
  static forRoot(options: TokenStoreOptions, changes: Type<ClientChanges> = InProcessClientChanges): DynamicModule {
    return {
      module: TokenStoreModule,
      providers: [
        { provide: TOKEN_STORE_OPTIONS, useValue: options },
        { provide: ClientChanges, useClass: changes },
        { provide: ClientRepository, useClass: TypeOrmClientRepository },
        { provide: ConsumerTokenRepository, useClass: TypeOrmConsumerTokenRepository },
        { provide: LiveSocketRepository, useClass: TypeOrmLiveSocketRepository },
        SecretHasher,
        ClientService,
        ConsumerTokenService,
        LiveSocketService,
      ],
      exports: [ClientService, ConsumerTokenService, LiveSocketService],
    };
  }
}
