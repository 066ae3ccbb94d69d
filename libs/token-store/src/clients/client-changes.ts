import { Injectable } from '@nestjs/common';

/** Told a client id whose credentials changed; null: any client's may have (announcements may have been missed). */
export type ClientChangeListener = (clientId: string | null) => void;

/**
 * Announcements that a client's credentials changed (the client deleted, its
 * grants or default groups changed, its token rotated), to whatever holds
 * them in memory: on this instance, or on every instance of a cluster.
 */
export abstract class ClientChanges {
  /** Tells every listener; resolves once the announcement has left for every instance. */
  abstract announce(clientId: string): Promise<void>;
  abstract listen(listener: ClientChangeListener): void;
}

/** Announcements within one instance. */
@Injectable()
export class InProcessClientChanges extends ClientChanges {
  private readonly listeners: ClientChangeListener[] = [];

  async announce(clientId: string): Promise<void> {
    this.tell(clientId);
  }

  listen(listener: ClientChangeListener): void {
    this.listeners.push(listener);
  }

  /** Tells this instance's listeners. */
  protected tell(clientId: string | null): void {
    for (const listener of this.listeners) listener(clientId);
  }
}
