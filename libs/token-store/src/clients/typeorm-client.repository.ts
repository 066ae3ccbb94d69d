import { Injectable } from '@nestjs/common';
import { DataSource, MoreThan, Repository } from 'typeorm';
import { ClientEntity } from './client.entity.js';
import { ClientRepository, type NewClient } from './client.repository.js';

@Injectable()
export class TypeOrmClientRepository extends ClientRepository {
  private readonly clients: Repository<ClientEntity>;

  constructor(dataSource: DataSource) {
    super();
    this.clients = dataSource.getRepository(ClientEntity);
  }

  async insert(client: NewClient): Promise<boolean> {
    const rows: unknown[] = await this.clients.query(
      `INSERT INTO clients (client_id, secret_hash, grants) VALUES ($1, $2, $3)
       ON CONFLICT (client_id) DO NOTHING RETURNING client_id`,
      [client.clientId, client.secretHash, client.grants],
    );
    return rows.length === 1;
  }

  findByClientId(clientId: string): Promise<ClientEntity | null> {
    return this.clients.findOneBy({ clientId });
  }

  listAfter(after: string | undefined, limit: number): Promise<ClientEntity[]> {
    return this.clients.find({
      where: after === undefined ? {} : { clientId: MoreThan(after) },
      order: { clientId: 'ASC' },
      take: limit,
    });
  }

  async deleteByClientId(clientId: string): Promise<boolean> {
    const result = await this.clients.delete({ clientId });
    return (result.affected ?? 0) > 0;
  }

  async setDefaultGroups(clientId: string, groups: readonly string[]): Promise<void> {
    await this.clients.update({ clientId }, { defaultGroups: [...groups] });
  }

  async setGrants(clientId: string, grants: readonly string[]): Promise<ClientEntity | null> {
    const result = await this.clients.update({ clientId }, { grants: [...grants] });
    return (result.affected ?? 0) > 0 ? this.findByClientId(clientId) : null;
  }

  async setSecretHash(clientId: string, secretHash: string): Promise<boolean> {
    const result = await this.clients.update({ clientId }, { secretHash });
    return (result.affected ?? 0) > 0;
  }
}
