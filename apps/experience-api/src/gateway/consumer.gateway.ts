import type { OnGatewayConnection } from '@nestjs/websockets';
import { WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { CONSUMER_SUBPROTOCOL } from './consumer-credentials.js';
import { ConsumerHandshakeGuard, type ConsumerAuthorization } from './consumer-handshake.guard.js';
import { CONSUMER_PATH, ConsumerSessionService } from './consumer-session.service.js';
import { authorizationOf } from './upgrade-guard.js';

/** Only `push.v1` is ever selected, so a token offered as a subprotocol is never echoed back. */
function selectSubprotocol(offered: Set<string>): string | false {
  return offered.has(CONSUMER_SUBPROTOCOL) ? CONSUMER_SUBPROTOCOL : false;
}

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
