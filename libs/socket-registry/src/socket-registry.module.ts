import { type DynamicModule, Module } from '@nestjs/common';
import { DeliveryBus, InProcessDeliveryBus } from './delivery-bus.js';
import { SocketRegistry } from './socket-registry.js';
import { SOCKET_REGISTRY_OPTIONS, type SocketRegistryOptions } from './socket-registry.options.js';

@Module({})
export class SocketRegistryModule {
  static forRoot(options: SocketRegistryOptions): DynamicModule {
    return {
      module: SocketRegistryModule,
      global: true,
      providers: [{ provide: SOCKET_REGISTRY_OPTIONS, useValue: options }, SocketRegistry, { provide: DeliveryBus, useClass: InProcessDeliveryBus }],
      exports: [SocketRegistry, DeliveryBus],
    };
  }
}
