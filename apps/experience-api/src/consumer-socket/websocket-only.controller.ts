import { All, BadRequestException, Controller } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../http/api-docs.js';
import { CONSUMER_PATH } from '../protocol/index.js';

/**
 * A plain HTTP request to the WebSocket path. Upgrade requests never reach
 * Express (the HTTP server hands them to the WebSocket adapter), so this only
 * answers a browser or `curl` that asked without an upgrade: a 400 that says
 * what the path is, rather than a 404 that says it does not exist.
 */
@Controller()
@ApiTags('websocket')
export class WebSocketOnlyController {
  @All(CONSUMER_PATH)
  @ApiOperation({
    summary: 'The consumer WebSocket: not an HTTP route',
    description: `${CONSUMER_PATH} is where consumers connect with a WebSocket (an HTTP upgrade request). Its WebSocket protocol is described separately (AsyncAPI) and in docs/protocol.md, not here: this entry only documents the answer to a plain HTTP request without an upgrade.`,
  })
  @ApiExtension('x-websocket', { protocol: 'docs/protocol.md', http: false })
  @ApiErrors({ 400: `Any plain HTTP request: \`${CONSUMER_PATH} is the WebSocket endpoint: connect with a WebSocket client (an HTTP upgrade request)\`.` })
  refuse(): never {
    throw new BadRequestException(`${CONSUMER_PATH} is the WebSocket endpoint: connect with a WebSocket client (an HTTP upgrade request)`);
  }
}
