import { ApiProperty } from '@nestjs/swagger';

/** The shapes the outbound-socket admin API answers with, for its OpenAPI document (outbound-sockets.controller.ts builds them). */

export class OutboundSocketCreatedAnswer {
  @ApiProperty({ example: 'prices-feed' })
  socket_id: string;

  @ApiProperty({ description: 'Stored and connecting; the state moves on as described in docs/outbound-sockets.md, "States".', example: 'connecting' })
  state: string;
}

export class ReconnectAnswer {
  @ApiProperty({ example: '1s' })
  initial_delay: string;

  @ApiProperty({ example: '30s' })
  max_delay: string;

  @ApiProperty({ example: 10 })
  attempts: number;
}

export class OutboundSocketAnswer {
  @ApiProperty({ description: 'Its id, also its id in the socket registry (type `outbound`).' })
  socket_id: string;

  @ApiProperty({ description: 'As given.' })
  url: string;

  @ApiProperty({ description: 'The header names given, each with the value `"***"`.', type: 'object', additionalProperties: { type: 'string' } })
  headers: Record<string, string>;

  @ApiProperty({ description: 'The groups it is in.', type: [String] })
  groups: string[];

  @ApiProperty({ description: 'Where what it receives is published; `null`: nowhere.', type: [String], nullable: true })
  relay_to_groups: string[] | null;

  @ApiProperty({ type: ReconnectAnswer })
  reconnect: ReconnectAnswer;

  @ApiProperty({ enum: ['connecting', 'open', 'reconnecting', 'failed'] })
  state: string;

  @ApiProperty({ description: 'The `INSTANCE_ID` of the instance holding it open; `null` while no instance holds it.', type: String, nullable: true })
  owner: string | null;

  @ApiProperty({
    description: 'Messages received since its owner opened it; `null` when asked of another instance than its owner.',
    type: Number,
    nullable: true,
  })
  messages_received: number | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;
}

export class OutboundSocketListAnswer {
  @ApiProperty({ type: [OutboundSocketAnswer] })
  outbound_sockets: OutboundSocketAnswer[];
}
