import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { DeliveryBus } from '@app/socket-registry';
import { type ClientView, ClientService, LiveSocketService } from '@app/token-store';
import { CloseCode, consumerSockets } from '../protocol/index.js';
import { ADMIN_API_DISABLED, ADMIN_REFUSALS, AdminTokenGuard } from './admin-token.guard.js';
import { ClientIdPipe } from './client-id.pipe.js';
import { ADMIN_TOKEN_SCHEME, ApiErrors, BODY_NOT_JSON, BODY_REFUSED, bodyTooLarge, CLUSTER_UNAVAILABLE } from '../http/api-docs.js';
import { ClientAnswer, ClientPageAnswer, ClientSecretAnswer, ClientWithSocketAnswer } from './client.answers.js';
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

const ADMIN_BODY_REFUSALS = { 413: bodyTooLarge('64 KiB'), 415: BODY_NOT_JSON } as const;
const UNKNOWN_CLIENT = `An unknown client (\`client "x" does not exist\`), or ${ADMIN_API_DISABLED}`;
const CLIENT_ID_PARAM = ApiParam({ name: 'client_id', description: 'The client’s id; one that breaks `^[A-Za-z0-9._-]{1,64}$` is a `400` before any query.' });

const socketsOf = (clientId: string) => consumerSockets({ clientId });

@Controller('admin/clients')
@UseGuards(AdminTokenGuard)
@ApiTags('admin: clients')
@ApiBearerAuth(ADMIN_TOKEN_SCHEME)
@ApiErrors(ADMIN_REFUSALS)
export class ClientsController {
  constructor(
    private readonly clients: ClientService,
    private readonly liveSockets: LiveSocketService,
    private readonly bus: DeliveryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a client', description: 'Creates a client: the party whose consumers connect. Its `groups` are its grants.' })
  @ApiCreatedResponse({ description: 'Created; the secret is shown this once, only a scrypt hash is stored.', type: ClientSecretAnswer })
  @ApiErrors({ 400: BODY_REFUSED, 409: 'A client id that already exists (`client "acme" already exists`).', ...ADMIN_BODY_REFUSALS })
  async create(@Body() body: CreateClientDto): Promise<{ client_id: string; client_secret: string }> {
    const grants = body.groups && [...new Set(body.groups)];
    const created = await this.clients.create({ clientId: body.client_id, clientSecret: body.client_secret, grants });
    return { client_id: created.clientId, client_secret: created.clientSecret };
  }

  /** A page of clients in id order; `next` is the `after` of the following page. Never a secret. */
  @Get()
  @ApiOperation({ summary: 'List clients', description: 'Lists clients a page at a time, in `client_id` order. Never a secret.' })
  @ApiOkResponse({ description: 'A page; pass `next` as `after` to get the following page.', type: ClientPageAnswer })
  @ApiErrors({ 400: 'A bad `limit` or `after`, or any other query parameter.' })
  async list(@Query() query: ListClientsQuery): Promise<object> {
    const page = await this.clients.list(query.after, query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit));
    return { clients: page.clients.map(describeClient), next: page.next };
  }

  /** The client with its open connection, on whichever instance holds it. */
  @Get(':client_id')
  @ApiOperation({ summary: 'Get a client', description: 'One client with its open connection, on whichever instance holds it.' })
  @CLIENT_ID_PARAM
  @ApiOkResponse({ description: 'The client and its live socket.', type: ClientWithSocketAnswer })
  @ApiErrors({ 400: 'A malformed `client_id`.', 404: UNKNOWN_CLIENT })
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
  @ApiOperation({
    summary: 'Replace a client’s grants',
    description:
      'Replaces the client’s grants. Every group that the client’s open socket is in and that is no longer granted is taken off it at once, on whichever instance holds it; the socket stays open. New handshakes see the new grants at once, on every instance.',
  })
  @CLIENT_ID_PARAM
  @ApiOkResponse({ description: 'The client (without `live_socket`).', type: ClientAnswer })
  @ApiErrors({
    400: BODY_REFUSED,
    404: UNKNOWN_CLIENT,
    ...ADMIN_BODY_REFUSALS,
    503: { ...CLUSTER_UNAVAILABLE, description: `${CLUSTER_UNAVAILABLE.description} The grants are not changed.` },
  })
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
  @ApiOperation({
    summary: 'Rotate a client’s secret',
    description:
      'Gives the client a new secret; the old one stops working at once. The token already issued stays valid until the consumer registers again or it idles out (`TOKEN_IDLE_TTL`); to cut a client off, delete it.',
  })
  @CLIENT_ID_PARAM
  @ApiBody({ type: RotateSecretDto, required: false })
  @ApiCreatedResponse({ description: 'The new secret, shown once.', type: ClientSecretAnswer })
  @ApiErrors({ 400: BODY_REFUSED, 404: UNKNOWN_CLIENT, ...ADMIN_BODY_REFUSALS })
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
  @ApiOperation({
    summary: 'Delete a client',
    description:
      'Deletes the client. Its token dies with it, on every instance at once, and its open socket is closed with `1008` (`client deleted`), on whichever instance holds it.',
  })
  @CLIENT_ID_PARAM
  @ApiNoContentResponse({ description: 'Deleted; no body.' })
  @ApiErrors({
    400: 'A malformed `client_id`.',
    404: UNKNOWN_CLIENT,
    503: {
      ...CLUSTER_UNAVAILABLE,
      description: `${CLUSTER_UNAVAILABLE.description} Nothing is deleted (the other instances could not be told to close the socket).`,
    },
  })
  async remove(@Param('client_id', ClientIdPipe) clientId: string): Promise<void> {
    await this.bus.close(socketsOf(clientId), CloseCode.POLICY_VIOLATION, 'client deleted');
    await this.clients.remove(clientId);
    await this.bus.close(socketsOf(clientId), CloseCode.POLICY_VIOLATION, 'client deleted');
  }
}
