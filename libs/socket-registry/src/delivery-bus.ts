import { Injectable } from '@nestjs/common';
import { Grants } from '@app/platform';
import type { SocketInfo } from './registered-socket.js';
import type { BroadcastResult, Delivery, SocketSelector } from './socket-selector.js';
import { SocketRegistry } from './socket-registry.js';

/** A page of a socket list: sockets in id order, after `after`, at most `limit`. */
export interface SocketPage {
  readonly after?: string;
  readonly limit: number;
}

/**
 * How operations reach sockets, wherever they are open. Callers never touch
 * the registry for them, so that an implementation spanning several
 * instances can take the place of the in-process one.
 */
export abstract class DeliveryBus {
  /** Writes each frame to its selected sockets, in order; one result per delivery. */
  abstract broadcastAll(deliveries: readonly Delivery[]): Promise<BroadcastResult[]>;
  /** Takes every group outside `grants` (names, or prefixes ending in `*`) from the selected sockets; returns how many lost a group. */
  abstract revokeGroups(selector: SocketSelector, grants: readonly string[]): Promise<number>;
  /** Closes the selected sockets; returns how many were closed. */
  abstract close(selector: SocketSelector, code: number, reason: string): Promise<number>;
  /** The selected sockets, in socket id order, a page at a time. */
  abstract list(selector: SocketSelector, page: SocketPage): Promise<SocketInfo[]>;
  /** Adds groups to a socket (`join`) or takes them off; its groups afterwards, or undefined when no instance has it. */
  abstract changeGroups(socketId: string, change: 'join' | 'leave', groups: readonly string[]): Promise<string[] | undefined>;
}

/** Operations when one instance serves every socket. */
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

  async list(selector: SocketSelector, page: SocketPage): Promise<SocketInfo[]> {
    return this.registry.list(selector, page.after, page.limit);
  }

  async changeGroups(socketId: string, change: 'join' | 'leave', groups: readonly string[]): Promise<string[] | undefined> {
    return change === 'join' ? this.registry.subscribe(socketId, groups) : this.registry.unsubscribe(socketId, groups);
  }
}
