import type { ConfigReader } from './config-reader.js';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** TLS_CERT_FILE and TLS_KEY_FILE, which go together or not at all. */
export function readTlsFiles(read: ConfigReader): TlsFiles | undefined {
  const certFile = read.string('TLS_CERT_FILE');
  const keyFile = read.string('TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    read.problem(certFile === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  const cert = read.file('TLS_CERT_FILE');
  const key = read.file('TLS_KEY_FILE');
  return cert && key ? { cert, key } : undefined;
}
