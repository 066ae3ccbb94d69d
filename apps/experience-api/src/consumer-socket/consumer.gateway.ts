import type { OnGatewayConnection } from '@nestjs/websockets';
import { WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { CONSUMER_PATH, selectSubprotocol } from '../protocol/index.js';
import { authorizationOf } from '../websocket-transport/upgrade-guard.js';
import { ConsumerHandshakeGuard, type ConsumerAuthorization } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';

/** `/ws/publish`: admitted by ConsumerHandshakeGuard before the upgrade, then handed to the session. */
@WebSocketGateway({
  path: CONSUMER_PATH,
  upgradeGuard: ConsumerHandshakeGuard,
  handleProtocols: selectSubprotocol,
  perMessageDeflate: false,
  // the session answers pings itself, within an allowance
  autoPong: false,
})
export class ConsumerGateway implements OnGatewayConnection<WebSocket> {
  constructor(private readonly sessions: ConsumerSessionService) {}

  handleConnection(socket: WebSocket): void {
    this.sessions.open(socket, authorizationOf<ConsumerAuthorization>(socket));
  }
}
