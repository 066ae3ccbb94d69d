/** Injection token of the validated SystemConfig. */
export const SYSTEM_CONFIG = Symbol('SYSTEM_CONFIG');
