import { ApiProperty } from '@nestjs/swagger';

/** The shapes the socket operations answer with, for their OpenAPI document (sockets.controller.ts builds them). */

export class SocketAnswer {
  @ApiProperty({ description: 'The socket’s id (a consumer reads its own in the `welcome` frame).' })
  socket_id: string;

  @ApiProperty({ description: 'A consumer’s socket, or one the gateway opened.', enum: ['inbound', 'outbound'] })
  type: string;

  @ApiProperty({ description: '`/ws/publish` for consumers; the URL path of an outbound socket.', example: '/ws/publish' })
  path: string;

  @ApiProperty({ description: 'The consumer’s client; `null` for an outbound socket.', type: String, nullable: true })
  client_id: string | null;

  @ApiProperty({ description: 'The groups it is in.', type: [String] })
  groups: string[];

  @ApiProperty({ description: 'The consumer’s address (through `TRUST_PROXY`), or the host and port an outbound socket connects to.' })
  remote_address: string;

  @ApiProperty({ description: 'ISO 8601 time it was registered.', format: 'date-time' })
  connected_at: string;

  @ApiProperty({ description: 'Frames written to it by the gateway (entities, messages); the `welcome` is not counted.' })
  messages_sent: number;

  @ApiProperty({ description: 'Bytes waiting to be sent to it (over `WS_MAX_BUFFERED_BYTES`, it is dropped as too slow).' })
  bytes_buffered: number;

  @ApiProperty({ description: '`open`; an outbound socket may also be `connecting`, `reconnecting` or `failed`.', example: 'open' })
  state: string;
}

export class SocketPageAnswer {
  @ApiProperty({ type: [SocketAnswer] })
  sockets: SocketAnswer[];

  @ApiProperty({ description: 'The `after` of the following page; `null` on the last page.', type: String, nullable: true })
  next: string | null;
}

export class SocketGroupsAnswer {
  @ApiProperty({ description: 'The socket’s groups afterwards.', type: [String], example: ['orders'] })
  groups: string[];
}

export class ClosedAnswer {
  @ApiProperty({ description: 'Sockets closed.', example: 2 })
  closed: number;
}

export class DeliveryFailureAnswer {
  @ApiProperty()
  socket_id: string;

  @ApiProperty({
    description: '`not_open` (the socket was closing), `slow_consumer` (over its send-buffer limit: it is dropped) or `send_failed`.',
    enum: ['not_open', 'slow_consumer', 'send_failed'],
  })
  reason: string;
}

export class BroadcastAnswer {
  @ApiProperty({ description: 'Sockets the data was written to.', example: 2 })
  recipients: number;

  @ApiProperty({ type: [DeliveryFailureAnswer] })
  failures: DeliveryFailureAnswer[];
}
