import { Module } from '@nestjs/common';
import { ConnectGate } from './connect-gate.js';
import { SocketEvents } from './socket-events.service.js';

/**
 * The triggers' emitter and the connect gate, shared by what emits (the
 * consumer session, the publisher) and what listens or decides (`webhooks/`).
 * `EventEmitter2` comes from `EventEmitterModule.forRoot()` in the root module.
 */
@Module({
  providers: [SocketEvents, ConnectGate],
  exports: [SocketEvents, ConnectGate],
})
export class SocketEventsModule {}
