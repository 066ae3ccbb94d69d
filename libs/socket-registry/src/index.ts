export { DeliveryBus, InProcessDeliveryBus, type SocketPage } from './delivery-bus.js';
export { FrameHold, type HeldFrame } from './frame-hold.js';
export { RegisteredSocket, type SocketInfo, type SocketState } from './registered-socket.js';
export { SocketRegistry } from './socket-registry.js';
export { SocketRegistryModule } from './socket-registry.module.js';
export type { SocketRegistryOptions } from './socket-registry.options.js';
export type { BroadcastResult, Delivery, DeliveryFailure, SocketSelector, SocketType } from './socket-selector.js';
