export { ConfigurationError } from './config/configuration-error.js';
export { EnvReader, formatDuration, MAX_TIMER_MS, parseDuration } from './config/env-reader.js';
export { AddressList, normalizeAddress } from './net/address-list.js';
export { resolveClientAddress } from './net/client-address.js';
export { RateLimiter } from './net/rate-limiter.js';
export { digestsEqual, randomCredential, secretsEqual, sha256 } from './crypto/secrets.js';
export { readTlsFiles, type TlsFiles } from './config/tls-files.js';
export { Grants } from './access/grants.js';
export { listeningUrl } from './net/listening-url.js';
