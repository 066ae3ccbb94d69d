import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { RegisteredSocket, type SocketInfo } from './registered-socket.js';
import type { BroadcastResult, Delivery, DeliveryFailure, SocketSelector } from './socket-selector.js';
import { SOCKET_REGISTRY_OPTIONS, type SocketRegistryOptions } from './socket-registry.options.js';
import { encodeTextFrames, rawTransport } from './wire-frame.js';

/**
 * The sockets open on this instance, indexed by id and by group, so that a
 * broadcast to a group touches only that group's members.
 */
@Injectable()
export class SocketRegistry {
  private readonly logger = new Logger(SocketRegistry.name);
  private readonly sockets = new Map<string, RegisteredSocket>();
  private readonly members = new Map<string, Set<RegisteredSocket>>();

  constructor(@Inject(SOCKET_REGISTRY_OPTIONS) private readonly options: SocketRegistryOptions) {}

  get size(): number {
    return this.sockets.size;
  }

  add(entry: RegisteredSocket, groups: Iterable<string> = []): void {
    this.sockets.set(entry.id, entry);
    this.subscribe(entry.id, groups);
  }

  /** Forgets the socket; it is not closed. */
  remove(socketId: string): RegisteredSocket | undefined {
    const entry = this.sockets.get(socketId);
    if (!entry) return undefined;
    this.unsubscribe(socketId, entry.groups);
    this.sockets.delete(socketId);
    return entry;
  }

  get(socketId: string): RegisteredSocket | undefined {
    return this.sockets.get(socketId);
  }

  /** Adds groups; groups it already has are ignored. Returns its groups, or undefined for an unknown socket. */
  subscribe(socketId: string, groups: Iterable<string>): string[] | undefined {
    const entry = this.sockets.get(socketId);
    if (!entry) return undefined;
    for (const group of groups) {
      if (!entry.join(group)) continue;
      let set = this.members.get(group);
      if (!set) this.members.set(group, (set = new Set()));
      set.add(entry);
    }
    return [...entry.groups];
  }

  unsubscribe(socketId: string, groups: Iterable<string>): string[] | undefined {
    const entry = this.sockets.get(socketId);
    if (!entry) return undefined;
    for (const group of [...groups]) {
      if (!entry.leave(group)) continue;
      const set = this.members.get(group);
      set?.delete(entry);
      if (set?.size === 0) this.members.delete(group);
    }
    return [...entry.groups];
  }

  /** Takes from each selected socket every group `keep` refuses; returns how many sockets lost a group. */
  retainGroups(selector: SocketSelector, keep: (group: string) => boolean): number {
    let changed = 0;
    for (const entry of [...this.select(selector)]) {
      const dropped = [...entry.groups].filter((group) => !keep(group));
      if (dropped.length === 0) continue;
      this.unsubscribe(entry.id, dropped);
      changed++;
    }
    return changed;
  }

  /** What operators see of the selected sockets with ids after `after`, in id order, at most `limit`. */
  list(selector: SocketSelector, after: string | undefined, limit: number): SocketInfo[] {
    const page: RegisteredSocket[] = [];
    for (const entry of this.select(selector)) if (after === undefined || entry.id > after) page.push(entry);
    page.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return page.slice(0, limit).map((entry) => entry.info());
  }

  /** The sockets a selector names, each once. */
  *select(selector: SocketSelector): Generator<RegisteredSocket> {
    const matchesFields = (entry: RegisteredSocket): boolean =>
      (selector.type === undefined || entry.type === selector.type) &&
      (selector.path === undefined || entry.path === selector.path) &&
      (selector.clientId === undefined || entry.clientId === selector.clientId);
    if (selector.socketId !== undefined) {
      const entry = this.sockets.get(selector.socketId);
      if (entry && matchesFields(entry) && (selector.groups === undefined || selector.groups.some((group) => entry.groups.has(group)))) yield entry;
      return;
    }
    if (selector.groups === undefined) {
      for (const entry of this.sockets.values()) if (matchesFields(entry)) yield entry;
      return;
    }
    const seen = new Set<RegisteredSocket>();
    for (const group of selector.groups) {
      for (const entry of this.members.get(group) ?? []) {
        if (seen.has(entry) || !matchesFields(entry)) continue;
        seen.add(entry);
        yield entry;
      }
    }
  }

  /**
   * Delivers several frames in order. Consecutive frames for the same
   * selection are encoded once, together, into one buffer of WebSocket frames,
   * and that buffer goes to each selected socket in a single write: a
   * broadcast costs one write per socket, however many entities it carries,
   * and nothing is allocated per socket.
   *
   * A delivery whose selector cannot be read fails alone (its result carries
   * the error), a socket whose write throws is dropped alone, and every socket
   * corked on the way is uncorked, whatever happened.
   */
  deliverAll(deliveries: readonly Delivery[]): BroadcastResult[] {
    const results: BroadcastResult[] = [];
    // a socket written in more than one run is corked, so its frames still leave in one write
    const corked = deliveries.length > 1 ? new Set<Socket>() : undefined;
    try {
      let start = 0;
      while (start < deliveries.length) {
        let end = start + 1;
        try {
          while (end < deliveries.length && sameSelection(deliveries[start].selector, deliveries[end].selector)) end++;
        } catch {
          // a selector that cannot be read ends the run here and fails in a run of its own
        }
        const result = this.deliverRun(deliveries, start, end, end < deliveries.length ? corked : undefined);
        for (let i = start; i < end; i++) results.push(result);
        start = end;
      }
    } finally {
      if (corked) for (const transport of corked) transport.uncork();
    }
    return results;
  }

  private deliverRun(deliveries: readonly Delivery[], start: number, end: number, corked: Set<Socket> | undefined): BroadcastResult {
    const run = deliveries.slice(start, end);
    const frames = run.map((delivery) => delivery.frame);
    let wire: Buffer | undefined;
    let recipients = 0;
    const failures: DeliveryFailure[] = [];
    try {
      for (const entry of this.select(deliveries[start].selector)) {
        if (entry.hold) {
          entry.hold.add(run);
          recipients++;
          continue;
        }
        // encoded once, for the first socket written to
        wire ??= encodeTextFrames(frames);
        const failure = this.writeWire(entry, wire, frames, corked);
        if (failure) failures.push({ socket_id: entry.id, reason: failure });
        else recipients++;
      }
    } catch (error) {
      this.logger.error(`a delivery failed: its selector could not be read: ${(error as Error).message}`);
      return { recipients, failures, error: error instanceof Error ? error : new Error(String(error)) };
    }
    return { recipients, failures };
  }

  /**
   * Writes frames to one socket, bypassing its hold and the slow-consumer
   * rule (the caller paces itself by the promise): resolves once they are
   * handed to the kernel, false if the socket is not open or the write failed
   * (the socket is then dropped).
   */
  writeFrames(entry: RegisteredSocket, frames: readonly Buffer[]): Promise<boolean> {
    const { socket } = entry;
    if (socket.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    if (frames.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (error?: Error | null): void => {
        if (error) {
          this.logger.warn(`dropping socket ${entry.id} (client ${entry.clientId ?? '-'}): write failed: ${error.message}`);
          socket.terminate();
        }
        resolve(!error);
      };
      try {
        entry.messagesSent += frames.length;
        const transport = rawTransport(socket);
        if (transport) {
          transport.write(encodeTextFrames(frames), done);
          return;
        }
        frames.forEach((frame, i) => socket.send(frame, { binary: false }, i === frames.length - 1 ? done : undefined));
      } catch (error) {
        done(error as Error);
      }
    });
  }

  /** Closes the selected sockets with a close frame; returns how many. */
  close(selector: SocketSelector, code: number, reason: string): number {
    let closed = 0;
    for (const entry of [...this.select(selector)]) {
      if (entry.closer) entry.closer(code, reason);
      else entry.socket.close(code, reason);
      closed++;
    }
    return closed;
  }

  /**
   * Drops the socket if more than the limit of bytes wait to be sent to it,
   * whatever put them there; true if it was dropped.
   */
  dropIfSlow(entry: RegisteredSocket): boolean {
    const { socket } = entry;
    if (socket.bufferedAmount <= this.options.maxBufferedBytes) return false;
    // a consumer that cannot keep up would otherwise hold an ever-growing queue in our memory
    this.logger.warn(`dropping slow socket ${entry.id} (client ${entry.clientId ?? '-'}): ${socket.bufferedAmount} bytes unsent`);
    socket.terminate();
    return true;
  }

  /** Writes the encoded frames to the socket, or through `ws` frame by frame where a direct write is not safe. */
  private writeWire(entry: RegisteredSocket, wire: Buffer, frames: readonly Buffer[], corked: Set<Socket> | undefined): DeliveryFailure['reason'] | null {
    const { socket } = entry;
    if (socket.readyState !== WebSocket.OPEN) return 'not_open';
    if (this.dropIfSlow(entry)) return 'slow_consumer';
    try {
      const transport = rawTransport(socket);
      if (!transport) {
        for (const frame of frames) socket.send(frame, { binary: false });
        entry.messagesSent += frames.length;
        return null;
      }
      if (corked && !corked.has(transport)) {
        transport.cork();
        corked.add(transport);
      }
      transport.write(wire);
      entry.messagesSent += frames.length;
      return null;
    } catch (error) {
      // part of a frame may have left: the stream can no longer be trusted, so the socket goes
      this.logger.warn(`dropping socket ${entry.id} (client ${entry.clientId ?? '-'}): write failed: ${(error as Error).message}`);
      socket.terminate();
      return 'send_failed';
    }
  }
}

/** Whether two selectors pick the same sockets (same fields, same groups in the same order). */
function sameSelection(a: SocketSelector, b: SocketSelector): boolean {
  if (a === b) return true;
  if (a.socketId !== b.socketId || a.type !== b.type || a.path !== b.path || a.clientId !== b.clientId) return false;
  if (a.groups === b.groups) return true;
  if (!Array.isArray(a.groups) || !Array.isArray(b.groups) || a.groups.length !== b.groups.length) return false;
  return a.groups.every((group, i) => group === b.groups![i]);
}
