import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Logger, Param, Post, UseGuards } from '@nestjs/common';
import { formatDuration } from '@app/platform';
import { DeliveryBus } from '@app/socket-registry';
import { OUTBOUND_SOCKET_ID_PATTERN } from '../outbound-sockets/outbound-socket.js';
import { OutboundSocketNotFoundError } from '../outbound-sockets/outbound-socket.errors.js';
import { OutboundSockets, type OutboundSocketView } from '../outbound-sockets/outbound-sockets.service.js';
import { AdminTokenGuard } from './admin-token.guard.js';
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

function checkedId(socketId: string): string {
  if (!OUTBOUND_SOCKET_ID_PATTERN.test(socketId)) throw new BadRequestException(`socket_id must match ${OUTBOUND_SOCKET_ID_PATTERN.source}`);
  return socketId;
}

/** Outbound sockets: connections this gateway opens to upstream feeds (docs/outbound-sockets.md). */
@Controller('admin/outbound-sockets')
@UseGuards(AdminTokenGuard)
export class OutboundSocketsController {
  private readonly logger = new Logger(OutboundSocketsController.name);

  constructor(
    private readonly outbound: OutboundSockets,
    private readonly bus: DeliveryBus,
  ) {}

  /** Stores and opens the socket: `201 {socket_id, state}`. */
  @Post()
  @HttpCode(201)
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
  async list(): Promise<{ outbound_sockets: object[] }> {
    return { outbound_sockets: (await this.outbound.list()).map(describe) };
  }

  @Get(':socket_id')
  async get(@Param('socket_id') socketId: string): Promise<object> {
    const socket = await this.outbound.find(checkedId(socketId));
    if (!socket) throw new OutboundSocketNotFoundError(socketId);
    return describe(socket);
  }

  /** Closes the socket wherever it is open and deletes it, so that no instance opens it again: `204`, or `404`. */
  @Delete(':socket_id')
  @HttpCode(204)
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
