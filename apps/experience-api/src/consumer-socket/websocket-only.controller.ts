import { All, BadRequestException, Controller } from '@nestjs/common';
import { CONSUMER_PATH } from '../protocol/index.js';

/**
 * A plain HTTP request to the WebSocket path. Upgrade requests never reach
 * Express (the HTTP server hands them to the WebSocket adapter), so this only
 * answers a browser or `curl` that asked without an upgrade: a 400 that says
 * what the path is, rather than a 404 that says it does not exist.
 */
@Controller()
export class WebSocketOnlyController {
  @All(CONSUMER_PATH)
  refuse(): never {
    throw new BadRequestException(`${CONSUMER_PATH} is the WebSocket endpoint: connect with a WebSocket client (an HTTP upgrade request)`);
  }
}
