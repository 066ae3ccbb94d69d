import { ClientEntity } from './clients/client.entity.js';
import { LiveSocketEntity } from './live-sockets/live-socket.entity.js';
import { CreateTokenStore1763776800000 } from './migrations/1763776800000-create-token-store.js';
import { ClientGrants1764680000000 } from './migrations/1764680000000-client-grants.js';
import { ConsumerTokenEntity } from './tokens/consumer-token.entity.js';

export { ClientChanges, InProcessClientChanges, type ClientChangeListener } from './clients/client-changes.js';
export { ClientService, type ClientPage, type ClientView, type CreatedClient } from './clients/client.service.js';
export type { ClientEntity } from './clients/client.entity.js';
export { ConsumerTokenService, type AuthenticatedConsumer, type IssuedToken, type StoredCredentialsReader } from './tokens/consumer-token.service.js';
export { LiveSocketService, type LiveSocketView } from './live-sockets/live-socket.service.js';
export { TokenStoreModule } from './token-store.module.js';
export type { TokenStoreOptions } from './token-store.options.js';
export { CLIENT_ID_PATTERN, GRANT_PATTERN, GROUP_PATTERN, MAX_GROUPS, TOKEN_PATTERN } from './identifiers.js';
export {
  ClientAlreadyExistsError,
  ClientNotFoundError,
  GroupNotGrantedError,
  InstanceStoppingError,
  InvalidClientCredentialsError,
  TokenRejectedError,
  type TokenRejection,
} from './token-store.errors.js';

export const TOKEN_STORE_ENTITIES = [ClientEntity, ConsumerTokenEntity, LiveSocketEntity];
export const TOKEN_STORE_MIGRATIONS = [CreateTokenStore1763776800000, ClientGrants1764680000000];
