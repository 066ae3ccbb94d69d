/** What a `client_id` may be. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Group names: short, printable, safe in a header list and a log line. */
export const GROUP_PATTERN = /^[A-Za-z0-9._:/-]{1,64}$/;

/** A grant: a group name, or a prefix ending in `*` that grants every group starting with it (`*` alone grants every group). */
export const GRANT_PATTERN = /^(?:[A-Za-z0-9._:/-]{1,64}|[A-Za-z0-9._:/-]{0,63}\*)$/;

/** At most this many groups (or grants) on one client or socket. */
export const MAX_GROUPS = 100;

/** Tokens are 32 random bytes in base64url: exactly 43 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
