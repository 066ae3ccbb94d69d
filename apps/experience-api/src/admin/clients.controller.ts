import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { DeliveryBus } from '@app/socket-registry';
import { type ClientView, ClientService, LiveSocketService } from '@app/token-store';
import { CloseCode, consumerSockets } from '../protocol/index.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ClientIdPipe } from './client-id.pipe.js';
import { CreateClientDto, ListClientsQuery, RotateSecretDto, UpdateClientDto } from './client.dto.js';

const DEFAULT_PAGE_SIZE = 100;

function describeClient(client: ClientView): object {
  return {
    client_id: client.clientId,
    groups: client.grants,
    default_groups: client.defaultGroups,
    created_at: client.createdAt.toISOString(),
  };
}

const socketsOf = (clientId: string) => consumerSockets({ clientId });

@Controller('admin/clients')
@UseGuards(AdminTokenGuard)
export class ClientsController {
  constructor(
    private readonly clients: ClientService,
    private readonly liveSockets: LiveSocketService,
    private readonly bus: DeliveryBus,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: CreateClientDto): Promise<{ client_id: string; client_secret: string }> {
    const grants = body.groups && [...new Set(body.groups)];
    const created = await this.clients.create({ clientId: body.client_id, clientSecret: body.client_secret, grants });
    return { client_id: created.clientId, client_secret: created.clientSecret };
  }

  /** A page of clients in id order; `next` is the `after` of the following page. Never a secret. */
  @Get()
  async list(@Query() query: ListClientsQuery): Promise<object> {
    const page = await this.clients.list(query.after, query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit));
    return { clients: page.clients.map(describeClient), next: page.next };
  }

  /** The client with its open connection, on whichever instance holds it. */
  @Get(':client_id')
  async get(@Param('client_id', ClientIdPipe) clientId: string): Promise<object> {
    const [client, socket] = await Promise.all([this.clients.find(clientId), this.liveSockets.find(clientId)]);
    return {
      ...describeClient(client),
      live_socket: socket && { socket_id: socket.socketId, instance_id: socket.instanceId, connected_at: socket.connectedAt.toISOString() },
    };
  }

  /**
   * Replaces the client's grants; a group its open socket is in and no longer
   * granted is taken off it at once, on whichever instance holds it. The
   * groups are taken off first, so that a cluster that cannot reach every
   * instance refuses (503) before the grants change, and again after, for a
   * consumer that reconnected in between.
   */
  @Patch(':client_id')
  async update(@Param('client_id', ClientIdPipe) clientId: string, @Body() body: UpdateClientDto): Promise<object> {
    const grants = [...new Set(body.groups)];
    await this.bus.revokeGroups(socketsOf(clientId), grants);
    const client = await this.clients.setGrants(clientId, grants);
    await this.bus.revokeGroups(socketsOf(clientId), client.grants);
    return describeClient(client);
  }

  /** A new secret, shown once; the old one stops working. Tokens already issued stay valid until rotated or idle. */
  @Post(':client_id/secret')
  @HttpCode(201)
  async rotateSecret(@Param('client_id', ClientIdPipe) clientId: string, @Body() body: RotateSecretDto): Promise<object> {
    const rotated = await this.clients.rotateSecret(clientId, body.client_secret);
    return { client_id: rotated.clientId, client_secret: rotated.clientSecret };
  }

  /**
   * Deletes the client, which kills its token, and closes its open socket on
   * whichever instance holds it. The socket is closed first, so that a
   * cluster that cannot reach every instance refuses (503) before anything
   * changed, and again after, for a consumer that reconnected in between.
   */
  @Delete(':client_id')
  @HttpCode(204)
  async remove(@Param('client_id', ClientIdPipe) clientId: string): Promise<void> {
    await this.bus.close(socketsOf(clientId), CloseCode.POLICY_VIOLATION, 'client deleted');
    await this.clients.remove(clientId);
    await this.bus.close(socketsOf(clientId), CloseCode.POLICY_VIOLATION, 'client deleted');
  }
}
