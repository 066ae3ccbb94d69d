import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { DeliveryBus } from '@app/socket-registry';
import { ClientService } from '@app/token-store';
import { CONSUMER_PATH } from '../gateway/consumer-session.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { CreateClientDto } from './create-client.dto.js';

/** Closing a deleted client's socket: its credentials no longer hold. */
const CLIENT_DELETED = 1008;

@Controller('admin/clients')
@UseGuards(AdminTokenGuard)
export class ClientsController {
  constructor(
    private readonly clients: ClientService,
    private readonly bus: DeliveryBus,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateClientDto): Promise<{ client_id: string; client_secret: string }> {
    const created = await this.clients.create({ clientId: body.client_id, clientSecret: body.client_secret, groups: body.groups });
    return { client_id: created.clientId, client_secret: created.clientSecret };
  }

  /** Deletes the client, which kills its token, and closes its open socket. */
  @Delete(':client_id')
  @HttpCode(204)
  async remove(@Param('client_id') clientId: string): Promise<void> {
    await this.clients.remove(clientId);
    await this.bus.close({ type: 'inbound', path: CONSUMER_PATH, clientId }, CLIENT_DELETED, 'client deleted');
  }
}
