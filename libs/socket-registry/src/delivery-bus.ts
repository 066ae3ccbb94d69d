import { Injectable } from '@nestjs/common';
import { Grants } from '@app/platform';
import type { BroadcastResult, Delivery, SocketSelector } from './socket-selector.js';
import { SocketRegistry } from './socket-registry.js';

/**
 * How deliveries reach sockets, wherever they are open. Callers never touch
 * the registry for delivery, so that an implementation spanning several
 * instances can take the place of the in-process one.
 */
export abstract class DeliveryBus {
  /** Writes each frame to its selected sockets, in order; one result per delivery. */
  abstract broadcastAll(deliveries: readonly Delivery[]): Promise<BroadcastResult[]>;
  /** Takes every group outside `grants` (names, or prefixes ending in `*`) from the selected sockets; returns how many lost a group. */
  abstract revokeGroups(selector: SocketSelector, grants: readonly string[]): Promise<number>;
  /** Closes the selected sockets; returns how many were closed. */
  abstract close(selector: SocketSelector, code: number, reason: string): Promise<number>;
}

/** Delivery when one instance serves every socket. */
@Injectable()
export class InProcessDeliveryBus extends DeliveryBus {
  constructor(private readonly registry: SocketRegistry) {
    super();
  }

  async broadcastAll(deliveries: readonly Delivery[]): Promise<BroadcastResult[]> {
    return this.registry.deliverAll(deliveries);
  }

  async revokeGroups(selector: SocketSelector, grants: readonly string[]): Promise<number> {
    const granted = new Grants(grants);
    return this.registry.retainGroups(selector, (group) => granted.allows(group));
  }

  async close(selector: SocketSelector, code: number, reason: string): Promise<number> {
    return this.registry.close(selector, code, reason);
  }
}
