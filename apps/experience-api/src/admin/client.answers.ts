import { ApiProperty } from '@nestjs/swagger';

/** The shapes the clients admin API answers with, for its OpenAPI document (clients.controller.ts builds them). */

export class ClientAnswer {
  @ApiProperty({ description: 'The client’s id.', example: 'acme' })
  client_id: string;

  @ApiProperty({ description: 'Its grants.', type: [String], example: ['orders'] })
  groups: string[];

  @ApiProperty({
    description:
      'The groups its consumers chose at registration (`POST /consumers` with `groups`); `null`: none chosen, so its consumers join the plain (non-prefix) grants.',
    type: [String],
    nullable: true,
  })
  default_groups: string[] | null;

  @ApiProperty({ description: 'ISO 8601 time of creation.', format: 'date-time' })
  created_at: string;
}

export class LiveSocketAnswer {
  @ApiProperty()
  socket_id: string;

  @ApiProperty({ description: 'The instance that holds the connection.' })
  instance_id: string;

  @ApiProperty({ format: 'date-time' })
  connected_at: string;
}

export class ClientWithSocketAnswer extends ClientAnswer {
  @ApiProperty({
    description: 'The client’s open connection, on whichever instance holds it; `null` when it has none.',
    type: LiveSocketAnswer,
    nullable: true,
  })
  live_socket: LiveSocketAnswer | null;
}

export class ClientPageAnswer {
  @ApiProperty({ type: [ClientAnswer] })
  clients: ClientAnswer[];

  @ApiProperty({ description: 'The `after` of the following page; `null` on the last page.', type: String, nullable: true, example: 'beta' })
  next: string | null;
}

export class ClientSecretAnswer {
  @ApiProperty({ example: 'acme' })
  client_id: string;

  @ApiProperty({ description: 'Shown this once; only a scrypt hash is stored.', example: 'Yw3…' })
  client_secret: string;
}
