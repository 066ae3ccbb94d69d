import { Injectable } from '@nestjs/common';
import { CLIENT_ID_PATTERN } from '../identifiers.js';
import { ClientAlreadyExistsError, ClientNotFoundError, GroupNotGrantedError, InvalidClientCredentialsError } from '../token-store.errors.js';
import type { ClientEntity } from './client.entity.js';
import { ClientChanges } from './client-changes.js';
import { ClientRepository } from './client.repository.js';
import { Grants, randomCredential } from '@app/platform';
import { SecretHasher } from './secret-hasher.js';

export interface CreatedClient {
  readonly clientId: string;
  /** Shown to the operator once; only its hash is kept. */
  readonly clientSecret: string;
}

/** A client as operators see it: never its secret. */
export interface ClientView {
  readonly clientId: string;
  readonly grants: readonly string[];
  /** The groups chosen at registration; null: the plain grants. */
  readonly defaultGroups: readonly string[] | null;
  readonly createdAt: Date;
}

export interface ClientPage {
  readonly clients: ClientView[];
  /** The id to list after for the next page; null on the last page. */
  readonly next: string | null;
}

function view(client: ClientEntity): ClientView {
  return { clientId: client.clientId, grants: client.grants, defaultGroups: client.defaultGroups, createdAt: client.createdAt };
}

@Injectable()
export class ClientService {
  constructor(
    private readonly clients: ClientRepository,
    private readonly hasher: SecretHasher,
    private readonly changes: ClientChanges,
  ) {}

  async create(request: { clientId: string; clientSecret?: string; grants?: readonly string[] }): Promise<CreatedClient> {
    const clientSecret = request.clientSecret ?? randomCredential(24);
    const inserted = await this.clients.insert({
      clientId: request.clientId,
      secretHash: await this.hasher.hash(clientSecret),
      grants: request.grants ?? [],
    });
    if (!inserted) throw new ClientAlreadyExistsError(request.clientId);
    return { clientId: request.clientId, clientSecret };
  }

  async find(clientId: string): Promise<ClientView> {
    const client = await this.clients.findByClientId(clientId);
    if (!client) throw new ClientNotFoundError(clientId);
    return view(client);
  }

  async list(after: string | undefined, limit: number): Promise<ClientPage> {
    // one more than asked tells whether there is a next page
    const rows = await this.clients.listAfter(after, limit + 1);
    const page = rows.slice(0, limit).map(view);
    return { clients: page, next: rows.length > limit ? page[page.length - 1].clientId : null };
  }

  /** Deletes the client; its token and live-socket claim go with it. */
  async remove(clientId: string): Promise<void> {
    if (!(await this.clients.deleteByClientId(clientId))) throw new ClientNotFoundError(clientId);
    await this.changes.announce(clientId);
  }

  /** Replaces the client's grants; its consumers' next handshakes see them at once, on every instance. */
  async setGrants(clientId: string, grants: readonly string[]): Promise<ClientView> {
    const client = await this.clients.setGrants(clientId, grants);
    if (!client) throw new ClientNotFoundError(clientId);
    await this.changes.announce(clientId);
    return view(client);
  }

  /** Gives the client a new secret (generated unless one is given); the old one stops working at once. */
  async rotateSecret(clientId: string, clientSecret = randomCredential(24)): Promise<CreatedClient> {
    if (!(await this.clients.setSecretHash(clientId, await this.hasher.hash(clientSecret)))) throw new ClientNotFoundError(clientId);
    return { clientId, clientSecret };
  }

  /** The client, if the secret is right; otherwise the same error whatever was wrong. */
  async verifyCredentials(clientId: string, clientSecret: string): Promise<ClientEntity> {
    // an id no client can have is never looked up, yet costs the same hash as any other failure
    const client = CLIENT_ID_PATTERN.test(clientId) ? await this.clients.findByClientId(clientId) : null;
    const valid = await this.hasher.verify(clientSecret, client?.secretHash);
    if (!client || !valid) throw new InvalidClientCredentialsError();
    return client;
  }

  /** Makes `groups` the client's default groups; every one must be granted. */
  async chooseDefaultGroups(client: ClientEntity, groups: readonly string[]): Promise<void> {
    const refused = new Grants(client.grants).firstRefused(groups);
    if (refused !== undefined) throw new GroupNotGrantedError(client.clientId, refused);
    await this.clients.setDefaultGroups(client.clientId, groups);
    await this.changes.announce(client.clientId);
  }
}
