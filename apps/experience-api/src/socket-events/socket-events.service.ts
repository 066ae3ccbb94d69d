import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { SocketEventName, SocketEventPayloads } from './socket-events.js';

type Listener = (...args: unknown[]) => unknown;

/**
 * Emits the gateway's triggers, typed by {@link SocketEventPayloads}, so that
 * no listener can break the path that emits: each listener of the event (and
 * each `onAny` listener) is called in turn, synchronously; one that throws, or
 * returns a promise that rejects, is logged, and the others run all the same.
 * (`EventEmitter2.emit` would stop at the first listener that throws and let
 * a rejected promise go unhandled.)
 */
@Injectable()
export class SocketEvents {
  private readonly logger = new Logger(SocketEvents.name);

  constructor(private readonly emitter: EventEmitter2) {}

  /** Whether anything listens to the event: a payload nobody would read need not be built (a connect is on the hot path). */
  listened(name: SocketEventName): boolean {
    return this.emitter.listenersAny().length > 0 || this.emitter.listenerCount(name) > 0;
  }

  emit<E extends SocketEventName>(name: E, payload: SocketEventPayloads[E]): void {
    // copies: EventEmitter2 hands out its own arrays, which a `once` listener shortens as it runs
    for (const listener of [...this.emitter.listenersAny()] as Listener[]) this.call(name, listener, [name, payload]);
    for (const listener of [...this.emitter.listeners(name)] as Listener[]) this.call(name, listener, [payload]);
  }

  private call(name: SocketEventName, listener: Listener, args: unknown[]): void {
    try {
      const result = listener.apply(this.emitter, args);
      if (result instanceof Promise) result.catch((error: unknown) => this.failed(name, error));
    } catch (error) {
      this.failed(name, error);
    }
  }

  private failed(name: SocketEventName, error: unknown): void {
    this.logger.error(`a listener of ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
