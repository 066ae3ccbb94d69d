export { DeliveryBus, InProcessDeliveryBus } from './delivery-bus.js';
export { RegisteredSocket } from './registered-socket.js';
export { SocketRegistry } from './socket-registry.js';
export { SocketRegistryModule } from './socket-registry.module.js';
export type { SocketRegistryOptions } from './socket-registry.options.js';
export type { BroadcastResult, Delivery, DeliveryFailure, SocketSelector, SocketType } from './socket-selector.js';
