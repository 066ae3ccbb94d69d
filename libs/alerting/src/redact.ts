const SECRET_KEY = /token|secret|password|passwd|authorization|credential|cookie/i;

/** Strips what must never travel in a mail: secret-named fields, and credentials inside URLs. */
export function redact(key: string, value: string | number | null | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (SECRET_KEY.test(key)) return '[redacted]';
  return String(value).replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
}
