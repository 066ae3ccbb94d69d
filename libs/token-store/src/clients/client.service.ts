import { Injectable } from '@nestjs/common';
import { randomCredential } from '@app/platform';
import { ClientAlreadyExistsError, ClientNotFoundError, InvalidClientCredentialsError } from '../token-store.errors.js';
import type { ClientEntity } from './client.entity.js';
import { ClientRepository } from './client.repository.js';
import { SecretHasher } from './secret-hasher.js';

export interface CreatedClient {
  readonly clientId: string;
  /** Shown to the operator once; only its hash is kept. */
  readonly clientSecret: string;
}

@Injectable()
export class ClientService {
  private readonly removalListeners: Array<(clientId: string) => void> = [];

  constructor(
    private readonly clients: ClientRepository,
    private readonly hasher: SecretHasher,
  ) {}

  async create(request: { clientId: string; clientSecret?: string; groups?: readonly string[] }): Promise<CreatedClient> {
    const clientSecret = request.clientSecret ?? randomCredential(24);
    const inserted = await this.clients.insert({
      clientId: request.clientId,
      secretHash: await this.hasher.hash(clientSecret),
      defaultGroups: request.groups ?? [],
    });
    if (!inserted) throw new ClientAlreadyExistsError(request.clientId);
    return { clientId: request.clientId, clientSecret };
  }

  /** Deletes the client; its token and live-socket claim go with it. */
  async remove(clientId: string): Promise<void> {
    if (!(await this.clients.deleteByClientId(clientId))) throw new ClientNotFoundError(clientId);
    for (const listener of this.removalListeners) listener(clientId);
  }

  /** Calls `listener` after each deletion, so that whatever holds a client's credentials in memory lets go of them. */
  onRemoved(listener: (clientId: string) => void): void {
    this.removalListeners.push(listener);
  }

  /** The client, if the secret is right; otherwise the same error whatever was wrong. */
  async verifyCredentials(clientId: string, clientSecret: string): Promise<ClientEntity> {
    const client = await this.clients.findByClientId(clientId);
    const valid = await this.hasher.verify(clientSecret, client?.secretHash);
    if (!client || !valid) throw new InvalidClientCredentialsError();
    return client;
  }

  setDefaultGroups(clientId: string, groups: readonly string[]): Promise<void> {
    return this.clients.setDefaultGroups(clientId, groups);
  }
}
