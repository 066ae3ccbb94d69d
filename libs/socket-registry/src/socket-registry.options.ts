export const SOCKET_REGISTRY_OPTIONS = Symbol('SOCKET_REGISTRY_OPTIONS');

export interface SocketRegistryOptions {
  /** A socket with more than this many bytes waiting to be sent is too slow to keep up and is dropped. */
  readonly maxBufferedBytes: number;
}
