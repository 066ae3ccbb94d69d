import type { IncomingHttpHeaders } from 'node:http';

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Client credentials from the `client_id` and `client_secret` headers, or from
 * HTTP Basic (`Authorization: Basic base64(id:secret)`). Undefined when neither
 * form is complete.
 */
export function readClientCredentials(headers: IncomingHttpHeaders): ClientCredentials | undefined {
  const clientId = headers['client_id'];
  const clientSecret = headers['client_secret'];
  if (typeof clientId === 'string' && typeof clientSecret === 'string' && clientId !== '' && clientSecret !== '') {
    return { clientId, clientSecret };
  }
  const basic = headers.authorization?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i)?.[1];
  if (basic === undefined) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}
