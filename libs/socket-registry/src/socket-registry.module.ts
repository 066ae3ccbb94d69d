import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { DeliveryBus, InProcessDeliveryBus } from './delivery-bus.js';
import { SocketRegistry } from './socket-registry.js';
import { SOCKET_REGISTRY_OPTIONS, type SocketRegistryOptions } from './socket-registry.options.js';

@Module({})
export class SocketRegistryModule {
  /** `bus`: how socket operations reach sockets; the in-process bus unless the app spans several instances. */
  static forRoot(options: SocketRegistryOptions, bus: Type<DeliveryBus> = InProcessDeliveryBus): DynamicModule {
    return {
      module: SocketRegistryModule,
      global: true,
      providers: [{ provide: SOCKET_REGISTRY_OPTIONS, useValue: options }, SocketRegistry, { provide: DeliveryBus, useClass: bus }],
      exports: [SocketRegistry, DeliveryBus],
    };
  }
}
