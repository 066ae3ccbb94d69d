import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Logger, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { formatDuration } from '@app/platform';
import { DeliveryBus } from '@app/socket-registry';
import { OUTBOUND_SOCKET_ID_PATTERN } from '../outbound-sockets/outbound-socket.js';
import { OutboundSocketNotFoundError } from '../outbound-sockets/outbound-socket.errors.js';
import { OutboundSockets, type OutboundSocketView } from '../outbound-sockets/outbound-sockets.service.js';
import { ADMIN_TOKEN_SCHEME, ApiErrors, BODY_NOT_JSON, BODY_REFUSED, bodyTooLarge } from '../http/api-docs.js';
import { ADMIN_API_DISABLED, ADMIN_REFUSALS, AdminTokenGuard } from './admin-token.guard.js';
import { OutboundSocketAnswer, OutboundSocketCreatedAnswer, OutboundSocketListAnswer } from './outbound-socket.answers.js';
import { CreateOutboundSocketDto, readReconnect } from './outbound-socket.dto.js';

/** What a header value is shown as: the names say what was sent, the values (credentials, often) never leave. */
export const MASKED = '***';

function describe(socket: OutboundSocketView): object {
  return {
    socket_id: socket.socketId,
    url: socket.url,
    headers: Object.fromEntries(Object.keys(socket.headers).map((name) => [name, MASKED])),
    groups: socket.groups,
    relay_to_groups: socket.relayToGroups,
    reconnect: {
      initial_delay: formatDuration(socket.reconnect.initialDelayMs),
      max_delay: formatDuration(socket.reconnect.maxDelayMs),
      attempts: socket.reconnect.attempts,
    },
    state: socket.state,
    owner: socket.owner,
    messages_received: socket.messagesReceived,
    created_at: socket.createdAt.toISOString(),
  };
}

const NO_OUTBOUND_SOCKET = `No such outbound socket (\`no outbound socket <id>\`); or ${ADMIN_API_DISABLED}`;
const SOCKET_ID_PARAM = ApiParam({ name: 'socket_id', description: 'The outbound socket’s id; one outside `^[A-Za-z0-9._-]{1,64}$` is a `400`.' });

function checkedId(socketId: string): string {
  if (!OUTBOUND_SOCKET_ID_PATTERN.test(socketId)) throw new BadRequestException(`socket_id must match ${OUTBOUND_SOCKET_ID_PATTERN.source}`);
  return socketId;
}

/** Outbound sockets: connections this gateway opens to upstream feeds (docs/outbound-sockets.md). */
@Controller('admin/outbound-sockets')
@UseGuards(AdminTokenGuard)
@ApiTags('admin: outbound sockets')
@ApiBearerAuth(ADMIN_TOKEN_SCHEME)
@ApiErrors(ADMIN_REFUSALS)
export class OutboundSocketsController {
  private readonly logger = new Logger(OutboundSocketsController.name);

  constructor(
    private readonly outbound: OutboundSockets,
    private readonly bus: DeliveryBus,
  ) {}

  /** Stores and opens the socket: `201 {socket_id, state}`. */
  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an outbound socket', description: 'Stores the socket and opens it from the instance asked.' })
  @ApiCreatedResponse({ description: 'Stored and connecting.', type: OutboundSocketCreatedAnswer })
  @ApiErrors({
    400: `Every field that breaks its rule is named, nested ones as \`reconnect.initial_delay\` or \`headers.X-Api-Key\` (a header's value is never repeated). ${BODY_REFUSED}`,
    409: '`socket_id <id> is in use`; or `at most 1000 outbound sockets may exist; delete one first`.',
    413: bodyTooLarge('64 KiB'),
    415: BODY_NOT_JSON,
    503: 'The instance is stopping (`this instance is stopping; try again on another`), or the database is unreachable.',
  })
  async create(@Body() body: CreateOutboundSocketDto): Promise<{ socket_id: string; state: string }> {
    const created = await this.outbound.create({
      socketId: body.socket_id,
      url: body.url,
      headers: body.headers ?? {},
      groups: [...new Set(body.groups ?? [])],
      relayToGroups: body.relay_to_groups ? [...new Set(body.relay_to_groups)] : null,
      // checked by the DTO: a policy comes back
      reconnect: readReconnect(body.reconnect).policy!,
    });
    return { socket_id: created.socketId, state: created.state };
  }

  /** Every outbound socket (at most MAX_OUTBOUND_SOCKETS), oldest first, with its state and the instance that holds it. */
  @Get()
  @ApiOperation({ summary: 'List outbound sockets', description: 'Every stored outbound socket, oldest first (at most 1,000: no pages).' })
  @ApiOkResponse({ description: 'Every outbound socket, with its state and the instance that holds it.', type: OutboundSocketListAnswer })
  async list(): Promise<{ outbound_sockets: object[] }> {
    return { outbound_sockets: (await this.outbound.list()).map(describe) };
  }

  @Get(':socket_id')
  @ApiOperation({ summary: 'Get an outbound socket' })
  @SOCKET_ID_PARAM
  @ApiOkResponse({ description: 'The outbound socket.', type: OutboundSocketAnswer })
  @ApiErrors({ 400: 'A malformed `socket_id`.', 404: NO_OUTBOUND_SOCKET })
  async get(@Param('socket_id') socketId: string): Promise<object> {
    const socket = await this.outbound.find(checkedId(socketId));
    if (!socket) throw new OutboundSocketNotFoundError(socketId);
    return describe(socket);
  }

  /** Closes the socket wherever it is open and deletes it, so that no instance opens it again: `204`, or `404`. */
  @Delete(':socket_id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an outbound socket',
    description: 'Deletes the socket from storage, so that no instance opens it again, and closes it with `1000 deleted by an operator`, wherever it is open.',
  })
  @SOCKET_ID_PARAM
  @ApiNoContentResponse({ description: 'Deleted; no body.' })
  @ApiErrors({ 400: 'A malformed `socket_id`.', 404: NO_OUTBOUND_SOCKET })
  async remove(@Param('socket_id') socketId: string): Promise<void> {
    if (!(await this.outbound.forget(checkedId(socketId)))) throw new OutboundSocketNotFoundError(socketId);
    // the instance that holds it would also stop it at its next renewal or reconnect; this closes it now
    await this.bus.close({ socketId, type: 'outbound' }, 1000, 'deleted by an operator').catch((error: Error) => {
      this.logger.warn(
        `outbound socket ${socketId}: deleted, but closing it on its instance failed (${error.message}); it stops at that instance's next renewal`,
      );
    });
  }
}
