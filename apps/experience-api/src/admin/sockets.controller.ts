import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Grants } from '@app/platform';
import { type BroadcastResult, type Delivery, DeliveryBus, type SocketInfo, type SocketSelector } from '@app/socket-registry';
import { ClientService, GroupNotGrantedError } from '@app/token-store';
import { OutboundSockets } from '../outbound-sockets/outbound-sockets.service.js';
import { messageFrame } from '../protocol/index.js';
import { ADMIN_TOKEN_SCHEME, ApiErrors, BODY_NOT_JSON, BODY_REFUSED, bodyTooLarge, CLUSTER_UNAVAILABLE } from '../http/api-docs.js';
import { ADMIN_API_DISABLED, ADMIN_REFUSALS, AdminTokenGuard } from './admin-token.guard.js';
import { BroadcastAnswer, ClosedAnswer, SocketAnswer, SocketGroupsAnswer, SocketPageAnswer } from './socket.answers.js';
import { BroadcastDto, BulkCloseDto, CloseSocketDto, ListSocketsQuery, SendMessageDto, SocketGroupsDto } from './socket.dto.js';

const DEFAULT_CLOSE_CODE = 1000;
const DEFAULT_CLOSE_REASON = 'closed by an operator';
const DEFAULT_PAGE_SIZE = 100;
const NO_SOCKET = `No instance has a socket of that id (\`no socket <id>\`); or ${ADMIN_API_DISABLED}`;
const SOCKET_ID_PARAM = ApiParam({ name: 'socket_id', description: 'The socket’s id.' });
const BODY_ERRORS = { 400: BODY_REFUSED, 413: bodyTooLarge('64 KiB'), 415: BODY_NOT_JSON } as const;

/** What operators see of a socket. */
function describeSocket(socket: SocketInfo): object {
  return {
    socket_id: socket.socketId,
    type: socket.type,
    path: socket.path,
    client_id: socket.clientId,
    groups: socket.groups,
    remote_address: socket.remoteAddress,
    connected_at: socket.connectedAt,
    messages_sent: socket.messagesSent,
    bytes_buffered: socket.bytesBuffered,
    state: socket.state,
  };
}

/**
 * The deliveries of one operator message to a selection: consumers (inbound
 * sockets) get a `message` frame around the data; an outbound socket, whose
 * peer speaks its own protocol, gets the data's JSON text as it is.
 */
function messageDeliveries(dataText: string, selector: SocketSelector): Delivery[] {
  const inbound: Delivery = { frame: messageFrame(dataText), selector: { ...selector, type: 'inbound' } };
  const outbound: Delivery = { frame: Buffer.from(dataText), selector: { ...selector, type: 'outbound' } };
  if (selector.type === 'inbound') return [inbound];
  if (selector.type === 'outbound') return [outbound];
  return [inbound, outbound];
}

function combined(results: readonly BroadcastResult[]): { recipients: number; failures: BroadcastResult['failures'] } {
  const error = results.find((result) => result.error !== undefined)?.error;
  if (error) throw error;
  return { recipients: results.reduce((sum, result) => sum + result.recipients, 0), failures: results.flatMap((result) => result.failures) };
}

function selection(body: { type?: 'inbound' | 'outbound'; path?: string; groups?: string[]; client_id?: string }): SocketSelector {
  return { type: body.type, path: body.path, groups: body.groups, clientId: body.client_id };
}

/**
 * The connector's socket operations, on whichever instance holds each socket:
 * list, look up, send, join and leave groups, broadcast, close, bulk close.
 */
@Controller('admin')
@UseGuards(AdminTokenGuard)
@ApiTags('admin: sockets')
@ApiBearerAuth(ADMIN_TOKEN_SCHEME)
@ApiErrors({ ...ADMIN_REFUSALS, 503: CLUSTER_UNAVAILABLE })
export class SocketsController {
  constructor(
    private readonly bus: DeliveryBus,
    private readonly clients: ClientService,
    private readonly outbound: OutboundSockets,
  ) {}

  /** A page of sockets in id order, filtered by type, path, group and client; `next` is the `after` of the following page. */
  @Get('sockets')
  @ApiOperation({
    summary: 'List sockets',
    description: 'A page of sockets in `socket_id` order, filtered by type, path, group and client, on every instance.',
  })
  @ApiOkResponse({ description: 'A page; pass `next` as `after` to get the following page.', type: SocketPageAnswer })
  @ApiErrors({ 400: 'A bad query parameter, named.' })
  async list(@Query() query: ListSocketsQuery): Promise<object> {
    const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit);
    const selector: SocketSelector = {
      type: query.type,
      path: query.path,
      groups: query.group === undefined ? undefined : [query.group],
      clientId: query.client_id,
    };
    // one more than asked tells whether there is a next page
    const sockets = await this.bus.list(selector, { after: query.after, limit: limit + 1 });
    const page = sockets.slice(0, limit);
    return { sockets: page.map(describeSocket), next: sockets.length > limit ? page[page.length - 1].socketId : null };
  }

  @Get('sockets/:socket_id')
  @ApiOperation({ summary: 'Get a socket' })
  @SOCKET_ID_PARAM
  @ApiOkResponse({ description: 'The socket.', type: SocketAnswer })
  @ApiErrors({ 404: NO_SOCKET })
  async get(@Param('socket_id') socketId: string): Promise<object> {
    return describeSocket(await this.find(socketId));
  }

  /** `202` once written to the socket; `404` when no instance has it; `409` when it has it but could not write (not open, too slow). */
  @Post('sockets/:socket_id/messages')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a message to a socket' })
  @SOCKET_ID_PARAM
  @ApiResponse({ status: 202, description: 'Written to the socket; no body.' })
  @ApiErrors({
    ...BODY_ERRORS,
    404: NO_SOCKET,
    409: 'The socket could not be written to: it is closing, or too slow (`socket <id> could not be written to: not_open`).',
  })
  async send(@Param('socket_id') socketId: string, @Body() body: SendMessageDto): Promise<void> {
    const { recipients, failures } = combined(await this.bus.broadcastAll(messageDeliveries(body.data.text, { socketId })));
    if (recipients > 0) return;
    if (failures.length > 0) throw new ConflictException(`socket ${socketId} could not be written to: ${failures[0].reason}`);
    throw new NotFoundException(`no socket ${socketId}`);
  }

  /** Adds groups (repeats ignored); a consumer's groups must be granted to its client. */
  @Post('sockets/:socket_id/groups')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add groups to a socket',
    description:
      'Adds the groups (a group it is in already is ignored). A change lasts as long as the connection: the next handshake joins the groups it asks for.',
  })
  @SOCKET_ID_PARAM
  @ApiOkResponse({ description: 'The socket’s groups afterwards.', type: SocketGroupsAnswer })
  @ApiErrors({ ...BODY_ERRORS, 403: 'A group not granted to a consumer’s client (the first is named); nothing changes.', 404: NO_SOCKET })
  async join(@Param('socket_id') socketId: string, @Body() body: SocketGroupsDto): Promise<object> {
    const socket = await this.find(socketId);
    if (socket.clientId !== null) {
      const client = await this.clients.find(socket.clientId);
      const refused = new Grants(client.grants).firstRefused(body.groups);
      if (refused !== undefined) throw new GroupNotGrantedError(socket.clientId, refused);
    }
    return { groups: await this.changeGroups(socketId, 'join', body.groups) };
  }

  /** Takes groups off the socket; a group it is not in is ignored. */
  @Delete('sockets/:socket_id/groups')
  @ApiOperation({ summary: 'Take groups off a socket', description: 'Takes the groups off the socket; a group it is not in is ignored.' })
  @SOCKET_ID_PARAM
  @ApiOkResponse({ description: 'The socket’s groups afterwards.', type: SocketGroupsAnswer })
  @ApiErrors({ ...BODY_ERRORS, 404: NO_SOCKET })
  async leave(@Param('socket_id') socketId: string, @Body() body: SocketGroupsDto): Promise<object> {
    return { groups: await this.changeGroups(socketId, 'leave', body.groups) };
  }

  /**
   * Closes the socket with a close frame: `204`, or `404` when no instance has
   * a socket of that id. An outbound socket is deleted too, so that it is not
   * reopened.
   */
  @Delete('sockets/:socket_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Close a socket',
    description: 'Closes the socket with a close frame. An outbound socket is deleted too, so that it is not reopened.',
  })
  @SOCKET_ID_PARAM
  @ApiBody({ type: CloseSocketDto, required: false })
  @ApiNoContentResponse({ description: 'Closed; no body.' })
  @ApiErrors({ ...BODY_ERRORS, 400: 'A bad `code` or `reason`, or a body that breaks the body rules.', 404: NO_SOCKET })
  async close(@Param('socket_id') socketId: string, @Body() body: CloseSocketDto = {}): Promise<void> {
    const [code, reason] = [body.code ?? DEFAULT_CLOSE_CODE, body.reason ?? DEFAULT_CLOSE_REASON];
    const forgotten = await this.outbound.forget(socketId, code, reason);
    const closed = await this.bus.close({ socketId }, code, reason);
    if (closed === 0 && !forgotten) throw new NotFoundException(`no socket ${socketId}`);
  }

  /** Closes every socket of a selection, which must name at least one criterion. */
  @Post('sockets/close')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Close the sockets of a selection',
    description:
      'Bulk close: a selection (at least one of `type`, `path`, `groups`, `client_id`, every one given must match), plus the optional `code` and `reason`. To close every consumer, send `{"type": "inbound"}`.',
  })
  @ApiOkResponse({ description: 'How many sockets were closed.', type: ClosedAnswer })
  @ApiErrors({ ...BODY_ERRORS, 400: `An empty selection (never "every socket"), or: ${BODY_REFUSED}` })
  async closeMany(@Body() body: BulkCloseDto): Promise<object> {
    const selector = selection(body);
    // an empty body never closes every socket by accident
    if (Object.values(selector).every((value) => value === undefined)) {
      throw new BadRequestException('name at least one of type, path, groups, client_id; to close every consumer, send {"type": "inbound"}');
    }
    // an outbound socket among them is deleted by its holder (its registry closer), so that it is not reopened
    return { closed: await this.bus.close(selector, body.code ?? DEFAULT_CLOSE_CODE, body.reason ?? DEFAULT_CLOSE_REASON) };
  }

  /** Sends the data to every socket selected (every socket without criteria); says who got it and who could not. */
  @Post('broadcast')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Broadcast to a selection',
    description: 'Sends the data to every socket of the selection (every criterion given must match; without criteria, every socket).',
  })
  @ApiOkResponse({ description: 'Who got it and who could not.', type: BroadcastAnswer })
  @ApiErrors(BODY_ERRORS)
  async broadcast(@Body() body: BroadcastDto): Promise<object> {
    return combined(await this.bus.broadcastAll(messageDeliveries(body.data.text, selection(body))));
  }

  private async find(socketId: string): Promise<SocketInfo> {
    const [socket] = await this.bus.list({ socketId }, { limit: 1 });
    if (!socket) throw new NotFoundException(`no socket ${socketId}`);
    return socket;
  }

  private async changeGroups(socketId: string, change: 'join' | 'leave', groups: readonly string[]): Promise<string[]> {
    const after = await this.bus.changeGroups(socketId, change, groups);
    if (after === undefined) throw new NotFoundException(`no socket ${socketId}`);
    return after;
  }
}
