import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
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
      `INSERT INTO clients (client_id, secret_hash, default_groups) VALUES ($1, $2, $3)
       ON CONFLICT (client_id) DO NOTHING RETURNING client_id`,
      [client.clientId, client.secretHash, client.defaultGroups],
    );
    return rows.length === 1;
  }

  findByClientId(clientId: string): Promise<ClientEntity | null> {
    return this.clients.findOneBy({ clientId });
  }

  async deleteByClientId(clientId: string): Promise<boolean> {
    const result = await this.clients.delete({ clientId });
    return (result.affected ?? 0) > 0;
  }

  async setDefaultGroups(clientId: string, groups: readonly string[]): Promise<void> {
    await this.clients.update({ clientId }, { defaultGroups: [...groups] });
  }
}
