import type { Type } from '@nestjs/common';
import type { OnGatewayConnection } from '@nestjs/websockets';
import { WebSocketGateway } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { selectSubprotocol } from '../protocol/index.js';
import { authorizationOf } from '../websocket-transport/upgrade-guard.js';
import { ConsumerHandshakeGuard, type ConsumerAuthorization } from './consumer-handshake.guard.js';
import { ConsumerSessionService } from './consumer-session.service.js';

/**
 * The gateway of one inbound path (INBOUND_PATHS): consumers connect as on
 * `/ws/publish` (same handshake, same one-connection rule, entities of their
 * groups) and may send messages up to `maxMessageBytes` each.
 */
export function inboundPathGateway(path: string, maxMessageBytes: number): Type<OnGatewayConnection<WebSocket>> {
  @WebSocketGateway({
    path,
    upgradeGuard: ConsumerHandshakeGuard,
    handleProtocols: selectSubprotocol,
    perMessageDeflate: false,
    autoPong: false,
    maxPayload: maxMessageBytes,
  })
  class InboundPathGateway implements OnGatewayConnection<WebSocket> {
    constructor(readonly sessions: ConsumerSessionService) {}

    handleConnection(socket: WebSocket): void {
      this.sessions.open(socket, authorizationOf<ConsumerAuthorization>(socket), path);
    }
  }
  return InboundPathGateway;
}
