export { connect, publishUrl, type CloseInfo, type ConnectOptions, type ConnectionHandle, type ReconnectOptions, type Stopped } from './connect.js';
export { PushGatewayError, type PushGatewayErrorKind } from './errors.js';
export type { ConsumerErrorCode, EntityFrame, ErrorFrame, MessageFrame, ServerFrame, WelcomeFrame } from './frames.js';
export { httpBase, register, type RegisterOptions, type Registration } from './register.js';
export type { TransportKind } from './transport.js';
