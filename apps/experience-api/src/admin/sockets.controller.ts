import { Body, Controller, Delete, HttpCode, NotFoundException, Param, UseGuards } from '@nestjs/common';
import { DeliveryBus } from '@app/socket-registry';
import { AdminTokenGuard } from './admin-token.guard.js';
import { CloseSocketDto } from './socket.dto.js';

const DEFAULT_CLOSE_CODE = 1000;
const DEFAULT_CLOSE_REASON = 'closed by an operator';

/** Sockets by id, on whichever instance holds them. */
@Controller('admin/sockets')
@UseGuards(AdminTokenGuard)
export class SocketsController {
  constructor(private readonly bus: DeliveryBus) {}

  /** Closes the socket with a close frame: `204`, or `404` when no instance has a socket of that id. */
  @Delete(':socket_id')
  @HttpCode(204)
  async close(@Param('socket_id') socketId: string, @Body() body: CloseSocketDto = {}): Promise<void> {
    const closed = await this.bus.close({ socketId }, body.code ?? DEFAULT_CLOSE_CODE, body.reason ?? DEFAULT_CLOSE_REASON);
    if (closed === 0) throw new NotFoundException(`no socket ${socketId}`);
  }
}
